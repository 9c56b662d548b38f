// The names a work order shows for its unit, category, handler and creator: the
// server's own names on the row (unit_name, category_name, handler_org_name,
// handler_unit_name, creator_name) first, which every role gets; then what the console
// knows from the reference lists the account may read; then the address.
import { i18n } from '../i18n/index.js'

export function orderNames(refs) {
  const en = () => i18n.global.locale.value === 'en'
  return {
    categoryName: (o) => (en() ? refs.catName(o.category_code) : o.category_name || refs.catName(o.category_code)),
    unitName: (o) => o.unit_name || refs.unitName(o.unit_id) || o.address || '',
    handlerName: (o) => o.handler_org_name || o.handler_unit_name
      || (o.handler_org_id ? (refs.orgMap[o.handler_org_id] && refs.orgMap[o.handler_org_id].name) || '' : '')
      || (o.handler_unit_id ? refs.unitName(o.handler_unit_id) : ''),
    creatorName: (o) => o.creator_name || (o.created_by && o.created_by.display_name) || '',
  }
}
