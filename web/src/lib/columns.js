// Which columns of a table are shown: the user's choice, kept per table in
// localStorage (gz_cols_<table>), every column shown until chosen otherwise.
import { ref, watch } from 'vue'

export function useColumns(table, keys, hiddenByDefault = []) {
  const storeKey = 'gz_cols_' + table
  let saved = null
  try { saved = JSON.parse(localStorage.getItem(storeKey) || 'null') } catch { saved = null }
  const shown = ref(Array.isArray(saved) ? keys.filter((k) => saved.includes(k)) : keys.filter((k) => !hiddenByDefault.includes(k)))
  watch(shown, (v) => { try { localStorage.setItem(storeKey, JSON.stringify(v)) } catch { /* private mode */ } }, { deep: true })
  const show = (k) => shown.value.includes(k)
  return { shown, show }
}
