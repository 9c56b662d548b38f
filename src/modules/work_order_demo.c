/* work_order_demo.c - a realistic year of work orders for the demo district.
 *
 * Property matters are the largest share, as in the source report (water supply,
 * lifts, parking disputes, leaks), then municipal facilities, environment, disputes,
 * welfare and safety.  Each order walks the lifecycle as far as its age allows, with
 * timestamps that respect its deadlines most of the time; some are returned and
 * re-dispatched, extended, escalated, merged or cancelled, and every step is a
 * timeline event, so the current state always equals what the timeline implies.
 * The generator is deterministic (a fixed seed).  Rows are written directly by this
 * module, which owns the tables; the daily aggregates are rebuilt at the end. */
#include "modules/work_order.h"
#include "app.h"
#include "core/timefmt.h"
#include "core/util.h"
#include "modules/sla.h"
#include "modules/units.h"
#include "modules/work_order_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int pick(int n)
{
	return (int)(rnd() % (uint64_t)n);
}

static double frand(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

struct kind {
	const char *code, *title, *desc;
	int weight;
	bool property; /* handled by the compound's property company */
};

/* {place} is the compound or community; {n} a building number. */
static const struct kind kinds[] = {
    {"010101", "{place}停水", "{place}{n}号楼从早上开始停水，没有提前通知，居民生活受影响。", 9,
     true},
    {"010102", "{place}{n}号楼水压不足", "{place}{n}号楼高层水压太低，五楼以上基本没水。", 6, true},
    {"010301", "{place}{n}号楼电梯故障停运",
     "{place}{n}号楼电梯已停运两天，老人上下楼困难，请尽快维修。", 10, true},
    {"010302", "{place}{n}号楼电梯困人", "{place}{n}号楼电梯运行中突然停止，有人被困。", 3, true},
    {"010401", "{place}车位使用权纠纷", "{place}地面车位被长期占用，业主之间因车位使用权发生争执。",
     7, true},
    {"010402", "{place}乱停乱放", "{place}消防通道附近车辆乱停乱放，影响通行。", 5, true},
    {"010501", "{place}{n}号楼屋面漏水", "{place}{n}号楼顶层屋面漏水，雨天室内渗水严重。", 7, true},
    {"010502", "{place}{n}号楼公共管道漏水", "{place}{n}号楼楼道公共管道漏水，地面积水。", 6, true},
    {"010601", "{place}垃圾清运不及时", "{place}垃圾桶已满溢，两天未清运，气味很大。", 5, true},
    {"010604", "{place}宠物粪便", "{place}绿地宠物粪便较多，希望增设收集器。", 3, true},
    {"010801", "{place}{n}号楼单元门禁损坏", "{place}{n}号楼单元门禁坏了，外来人员随意进出。", 3,
     true},
    {"010901", "{place}{n}号楼楼道灯损坏", "{place}{n}号楼楼道灯不亮，晚上行走不便。", 4, true},
    {"010902", "{place}座椅及健身器材损坏", "{place}口袋公园座椅破损，健身器材松动。", 2, true},
    {"0110", "{place}物业收费问题", "对{place}物业费收取标准有疑问，要求公示。", 2, true},
    {"020202", "{place}附近沟盖板破损", "{place}门口沟盖板破损松动，存在安全隐患。", 3, false},
    {"020301", "{place}附近路灯不亮", "{place}附近路灯连续多日不亮。", 3, false},
    {"020401", "{place}排水不畅", "{place}雨后排水不畅，路面积水。", 3, false},
    {"020502", "{place}老旧管道漏水", "{place}地下老旧供水管道漏水，需紧急处置。", 3, false},
    {"020601", "{place}危树隐患", "{place}有一棵大树倾斜，大风天存在倒伏风险。", 2, false},
    {"030103", "{place}{n}号楼噪音扰民", "{place}{n}号楼夜间装修噪音扰民。", 3, false},
    {"0302", "{place}附近餐馆油烟扰民", "{place}临街餐馆油烟直排，影响居民开窗。", 2, false},
    {"040201", "{place}{n}号楼楼上漏水纠纷", "{place}{n}号楼楼上漏水至楼下，双方协商未果。", 3,
     false},
    {"040202", "{place}邻里噪音纠纷", "{place}邻里之间因噪音问题产生矛盾。", 2, false},
    {"050101", "{place}老人助餐需求", "{place}独居老人希望办理老年营养就餐。", 2, false},
    {"050201", "{place}社保卡更换咨询", "居民咨询第三代社保卡更换办理地点和材料。", 2, false},
    {"060102", "{place}电动车楼道充电", "{place}{n}号楼有住户在楼道内给电动车充电。", 2, false},
    {"060202", "{place}燃气设施老化", "{place}{n}号楼燃气立管锈蚀，担心泄漏。", 1, false},
    {"0802", "关于{place}环境改善的建议", "建议在{place}增设休闲座椅和宠物粪便收集器。", 1, false},
};

static const struct {
	const char *channel;
	int weight;
} channels[] = {{"hotline_12345", 50}, {"grid_patrol", 18}, {"walk_in", 10},
                {"phone", 8},          {"web", 8},          {"proactive", 6}};

static const char *const surnames = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗";

struct place {
	int64_t id;
	char name[64];
	double lat, lng;
	char path[256];
	int64_t community, subdistrict;
	int64_t property_org; /* the property company serving it, 0: self-managed */
	int64_t staff;        /* the staff account of its community or subdistrict, 0 none */
	char staff_name[64];
};

/* Which property company serves which compound (the seed's organisations say so in
 * their descriptions); a community's orders go to the company of its compounds, and
 * a compound without one is managed by its community. */
static const struct {
	const char *compound, *company;
} property_of[] = {
    {"清霖园", "天津鸿润物业服务有限公司"},
    {"鲁山里", "天津鸿润物业服务有限公司"},
    {"嵩山花园", "天津鸿润物业服务有限公司"},
    {"皓鸿园", "天津皓安物业管理有限公司"},
    {"华越园", "天津皓安物业管理有限公司"},
    {"嵩山里", "天津皓安物业管理有限公司"},
    {"沙柳北里", "天津东新宜居物业服务有限公司"},
    {"沙柳园", "天津东新宜居物业服务有限公司"},
    {"凤岐里小区", "天津东新宜居物业服务有限公司"},
    {"曲溪中里小区", "天津东新宜居物业服务有限公司"},
    {"沧浪里小区", "天津东新宜居物业服务有限公司"},
    {"远翠东里小区", "天津远翠物业管理有限公司"},
    {"远翠中里小区", "天津远翠物业管理有限公司"},
    {"环秀东里小区", "天津远翠物业管理有限公司"},
};

static void fill(char *out, size_t n, const char *tmpl, const char *place, int num)
{
	size_t o = 0;
	for (const char *p = tmpl; *p && o + 1 < n;) {
		if (strncmp(p, "{place}", 7) == 0) {
			o += (size_t)snprintf(out + o, n - o, "%s", place);
			p += 7;
		} else if (strncmp(p, "{n}", 3) == 0) {
			o += (size_t)snprintf(out + o, n - o, "%d", num);
			p += 3;
		} else {
			out[o++] = *p++;
		}
		if (o >= n)
			o = n - 1;
	}
	out[o] = 0;
}

struct gen {
	struct gz_conn *c;
	struct gz_app *app;
	struct place places[128];
	int nplaces;
	int64_t property[16];
	int nproperty;
	/* the units and organisations that some kinds of order go to */
	int64_t u_fengqili, u_yuancui_zhongli, u_huanxiu_dongli, u_shaliu_beilu, u_dongxin;
	int64_t o_jinshitu, o_leling, o_bank, o_mulin, o_laohuoji;
	int64_t grid_worker, resident; /* demo accounts that file orders themselves */
	int orders;
	int64_t last_id; /* the previous order: duplicates are merged into it */
};

/* Where an order of kind k at place pl goes, as a 12345 dispatcher would send it:
 * property matters to the compound's property company (benches and fitness equipment
 * of 东新街道 to the partner that adopted its micro-renovation), municipal, environmental and
 * safety matters to the subdistrict office, disputes to the community's mediation team, welfare to
 * the partner that serves it, the rest to the community. */
static void route(const struct gen *g, const struct kind *k, const struct place *pl, int64_t *org,
                  int64_t *unit)
{
	*org = *unit = 0;
	const char *c = k->code;
	if (strcmp(c, "010902") == 0 && pl->subdistrict == g->u_dongxin && g->o_jinshitu)
		*org = g->o_jinshitu;
	else if (k->property)
		*org = pl->property_org;
	else if (strncmp(c, "02", 2) == 0 || strncmp(c, "03", 2) == 0 || strncmp(c, "06", 2) == 0)
		*unit = pl->subdistrict;
	else if (strncmp(c, "04", 2) == 0)
		*org = pl->community == g->u_yuancui_zhongli  ? g->o_mulin
		       : pl->community == g->u_huanxiu_dongli ? g->o_laohuoji
		                                              : 0;
	else if (strcmp(c, "050101") == 0 && pl->community == g->u_fengqili)
		*org = g->o_leling;
	else if (strcmp(c, "050201") == 0 && pl->subdistrict == g->u_dongxin)
		*org = g->o_bank;
	if (!*org && !*unit)
		*unit = pl->community;
}

/* The account that acts for a handler in the timeline, and its name. */
static int handler_actor(struct gen *g, int64_t org, int64_t unit, int64_t *id, char *name,
                         size_t n, struct gz_err *err)
{
	*id = 0;
	snprintf(name, n, "%s", org ? "承办单位" : "承办科室");
	struct gz_stmt *s =
	    gz_stmt(g->c,
	            org ? "SELECT u.id, u.display_name, o.name FROM orgs o LEFT JOIN users u ON "
	                  "u.org_id = o.id WHERE o.id = ? ORDER BY u.id LIMIT 1"
	                : "SELECT u.id, u.display_name, n.name FROM units n LEFT JOIN users u ON "
	                  "u.unit_id = n.id AND u.roles LIKE '%staff%' WHERE n.id = ? ORDER BY "
	                  "u.id LIMIT 1",
	            err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, org ? org : unit);
	int rc = gz_step(s, err);
	if (rc == 1) {
		*id = gz_col_null(s, 0) ? 0 : gz_col_i64(s, 0);
		snprintf(name, n, "%s", gz_col_null(s, 1) ? gz_col_text(s, 2) : gz_col_text(s, 1));
	}
	gz_stmt_done(s);
	return rc < 0 ? -1 : 0;
}

static int ev(struct gen *g, int64_t id, int64_t at, int64_t actor, const char *name,
              const char *action, const char *from, const char *to, const char *note,
              const char *data, struct gz_err *err)
{
	return gz_exec_args(
	    g->c, err,
	    "INSERT INTO work_order_events (work_order_id, at, actor_id, actor_name, "
	    "action, from_status, to_status, note, data, internal) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
	    actor ? "iiittttt"
	            "t"
	          : "iinttttt"
	            "t",
	    id, at, actor, name, action, from, to, note, data ? data : "{}");
}

static int one_order(struct gen *g, int64_t created, int64_t now, struct gz_err *err)
{
	int total = 0;
	for (size_t i = 0; i < GZ_ARRAY_LEN(kinds); i++)
		total += kinds[i].weight;
	int w = pick(total);
	const struct kind *k = kinds;
	while (w >= k->weight) {
		w -= k->weight;
		k++;
	}
	int cw = pick(100);
	size_t ci = 0;
	while (cw >= channels[ci].weight) {
		cw -= channels[ci].weight;
		ci++;
	}
	const struct place *pl = &g->places[pick(g->nplaces)];
	/* the grid worker files the patrol finds of its community; the demo resident
	 * files some of the web reports of where it lives */
	int64_t filer = 0;
	if (pl->community == g->u_shaliu_beilu &&
	    ((strcmp(channels[ci].channel, "grid_patrol") == 0 && g->grid_worker) ||
	     (strcmp(channels[ci].channel, "web") == 0 && g->resident && pick(2) == 0)))
		filer = strcmp(channels[ci].channel, "web") == 0 ? g->resident : g->grid_worker;
	bool by_resident = filer && filer == g->resident;
	int building = 1 + pick(12);
	char title[256], desc[512];
	fill(title, sizeof(title), k->title, pl->name, building);
	fill(desc, sizeof(desc), k->desc, pl->name, building);
	const char *priority = strcmp(k->code, "010302") == 0 || strcmp(k->code, "020502") == 0
	                           ? "urgent"
	                       : pick(10) == 0 ? "high"
	                                       : "normal";
	const char *path = pl->path;
	int64_t community = pl->community, subdistrict = pl->subdistrict;
	int64_t accept_due, resolve_due;
	if (gz_sla_deadlines(g->c, k->code, priority, created, &accept_due, &resolve_due, err))
		return -1;
	char number[32];
	if (gz_wo_number(g->c, created, number, sizeof(number), err))
		return -1;
	char name[16];
	int si = pick(20) * 3; /* each surname is 3 bytes of UTF-8 */
	snprintf(name, sizeof(name), "%.3s%s", surnames + si, pick(2) ? "先生" : "女士");
	if (by_resident)
		snprintf(name, sizeof(name), "孙大爷");
	char phone[32];
	snprintf(phone, sizeof(phone), "1%d%09llu", 3 + pick(7),
	         (unsigned long long)(rnd() % 1000000000ull));
	char *sealed = gz_seal(g->app->key, phone);
	double lat = pl->lat + (frand() - 0.5) * 0.002, lng = pl->lng + (frand() - 0.5) * 0.002;
	int64_t id = 0;
	struct gz_stmt *s = gz_stmt(
	    g->c,
	    "INSERT INTO work_orders (number, title, description, category_code, channel, "
	    "priority, unit_id, unit_path, community_id, subdistrict_id, address, lat, lng, "
	    "requester_name, requester_phone, status, accept_due_at, resolve_due_at, created_by, "
	    "created_at, updated_at, external_id, requester_user_id) VALUES (?, ?, ?, ?, ?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?, ?, ?, ?, ?, ?) RETURNING id",
	    err);
	if (!s) {
		free(sealed);
		return -1;
	}
	int i = 1;
	gz_bind_text(s, i++, number);
	gz_bind_text(s, i++, title);
	gz_bind_text(s, i++, desc);
	gz_bind_text(s, i++, k->code);
	gz_bind_text(s, i++, channels[ci].channel);
	gz_bind_text(s, i++, priority);
	gz_bind_i64(s, i++, pl->id);
	gz_bind_text(s, i++, path);
	gz_bind_i64(s, i++, community);
	if (subdistrict)
		gz_bind_i64(s, i++, subdistrict);
	else
		gz_bind_null(s, i++);
	char address[128];
	snprintf(address, sizeof(address), "天津市河东区%s%d号楼", pl->name, building);
	gz_bind_text(s, i++, address);
	gz_bind_double(s, i++, lat);
	gz_bind_double(s, i++, lng);
	gz_bind_text(s, i++, name);
	gz_bind_text(s, i++, sealed);
	gz_bind_i64(s, i++, accept_due);
	gz_bind_i64(s, i++, resolve_due);
	/* created_by: the grid worker's or resident's own finds; the others came in by
	 * phone or hotline (one account filing them all would reach them all) */
	if (filer)
		gz_bind_i64(s, i++, filer);
	else
		gz_bind_null(s, i++);
	gz_bind_i64(s, i++, created);
	gz_bind_i64(s, i++, created);
	char ext[32];
	if (strcmp(channels[ci].channel, "hotline_12345") == 0) {
		snprintf(ext, sizeof(ext), "12345-%.8s-%04d", number + 2, atoi(number + 10));
		gz_bind_text(s, i++, ext);
	} else {
		gz_bind_null(s, i++);
	}
	if (by_resident)
		gz_bind_i64(s, i++, filer);
	else
		gz_bind_null(s, i++);
	int rc = gz_step(s, err);
	if (rc == 1)
		id = gz_col_i64(s, 0);
	gz_stmt_done(s);
	free(sealed);
	if (rc != 1)
		return -1;
	g->orders++;

	const char *staff = pl->staff_name;
	int64_t actor_staff = pl->staff;
	char data[256];
	if (filer) {
		const char *who =
		    by_resident ? "沙柳北路社区居民 孙大爷" : "沙柳北路社区第一网格 张网格员";
		if (ev(g, id, created, filer, who, "create", NULL, "new", NULL, NULL, err))
			return -1;
	} else if (ev(g, id, created, actor_staff, staff, "create", NULL, "new", NULL, NULL, err)) {
		return -1;
	}
	/* how far it got: older orders are mostly closed */
	double age_days = (double)(now - created) / 86400000.0;
	int64_t t = created;
	const char *status = "new";
	int64_t handler, handler_unit;
	route(g, k, pl, &handler, &handler_unit);
	if (pick(40) == 0 && age_days > 1) { /* cancelled: a duplicate call or solved by itself */
		t += 3600000;
		if (ev(g, id, t, actor_staff, staff, "cancel", "new", "cancelled",
		       "诉求人表示问题已自行解决", "{\"reason\":\"诉求人撤回\"}", err))
			return -1;
		return gz_exec_args(g->c, err,
		                    "UPDATE work_orders SET status = 'cancelled', "
		                    "updated_at = ? WHERE id = ?",
		                    "ii", t, id);
	}
	/* recent orders stop anywhere in the lifecycle, so every state is present */
	int stop = age_days < 4 ? pick(8) : 99;
	enum { S_NEW, S_DISPATCHED, S_ACCEPTED, S_IN_PROGRESS, S_RESOLVED, S_VERIFIED, S_RETURNED };
	int64_t previous = g->last_id;
	g->last_id = id;
	if (previous && pick(120) == 0) { /* a duplicate of the previous call */
		t += 1800000;
		snprintf(data, sizeof(data), "{\"into_id\":%lld}", (long long)previous);
		if (ev(g, id, t, actor_staff, staff, "merge", "new", "merged", "重复工单", data,
		       err))
			return -1;
		return gz_exec_args(g->c, err,
		                    "UPDATE work_orders SET status = 'merged', merged_into_id = ?, "
		                    "updated_at = ? WHERE id = ?",
		                    "iii", previous, t, id);
	}
	if (age_days < 0.05 || stop == S_NEW)
		return 0;
	/* dispatch, sometimes first to the wrong property company (returned: not its
	 * compound) and then to the right handler */
	int returns = pick(25) == 0 || stop == S_RETURNED ? 1 : 0;
	int64_t wrong = 0;
	for (int tries = 0; returns && tries < 8 && (!wrong || wrong == handler); tries++)
		wrong = g->property[pick(g->nproperty)];
	if (wrong == handler)
		returns = 0;
	int64_t dispatched = t + (int64_t)(frand() * 2 * 3600000);
	t = dispatched;
	char handler_name[64], wrong_name[64];
	int64_t actor_handler, actor_wrong = 0;
	if (handler_actor(g, handler, handler_unit, &actor_handler, handler_name,
	                  sizeof(handler_name), err) ||
	    (returns &&
	     handler_actor(g, wrong, 0, &actor_wrong, wrong_name, sizeof(wrong_name), err)))
		return -1;
	if (returns)
		snprintf(data, sizeof(data), "{\"handler_org_id\":%lld}", (long long)wrong);
	else if (handler)
		snprintf(data, sizeof(data), "{\"handler_org_id\":%lld}", (long long)handler);
	else
		snprintf(data, sizeof(data), "{\"handler_unit_id\":%lld}", (long long)handler_unit);
	if (ev(g, id, t, actor_staff, staff, "dispatch", "new", "dispatched", NULL, data, err))
		return -1;
	if (returns) {
		t += (int64_t)(frand() * 3 * 3600000);
		if (ev(g, id, t, actor_wrong, wrong_name, "return", "dispatched", "returned",
		       "不属于本单位管辖", "{\"reason\":\"wrong_area\"}", err))
			return -1;
		if (stop == S_RETURNED)
			return gz_exec_args(g->c, err,
			                    "UPDATE work_orders SET status = 'returned', "
			                    "dispatched_at = ?, return_count = 1, return_reason = "
			                    "'wrong_area', updated_at = ? WHERE id = ?",
			                    "iii", dispatched, t, id);
		t += 3600000;
		dispatched = t;
		if (handler)
			snprintf(data, sizeof(data), "{\"handler_org_id\":%lld}",
			         (long long)handler);
		else
			snprintf(data, sizeof(data), "{\"handler_unit_id\":%lld}",
			         (long long)handler_unit);
		if (ev(g, id, t, actor_staff, staff, "dispatch", "returned", "dispatched", "改派",
		       data, err))
			return -1;
	}
	int64_t hours;
	int64_t days;
	if (gz_sla_rule(g->c, k->code, priority, &hours, &days, err))
		return -1;
	accept_due = dispatched + hours * 3600000;
	status = "dispatched";
	int64_t accepted = 0, resolved = 0, verified = 0, closed = 0;
	const char *satisfaction = NULL;
	int solved = -1, escalated = 0, extension = 0;
	bool late_accept = pick(12) == 0;
	int64_t acc_at = t +
	                 (int64_t)((late_accept ? (double)hours * 1.5 : (double)hours * 0.6) *
	                           frand() * 3600000) +
	                 60000;
	if (acc_at < now && stop > S_DISPATCHED) {
		accepted = t = acc_at;
		status = "accepted";
		if (ev(g, id, t, actor_handler, handler_name, "accept", "dispatched", "accepted",
		       "已签收", NULL, err))
			return -1;
		t += (int64_t)(frand() * 4 * 3600000);
		if (t < now && stop > S_ACCEPTED) {
			status = "in_progress";
			if (ev(g, id, t, actor_handler, handler_name, "start", "accepted",
			       "in_progress", "已安排人员处理", NULL, err))
				return -1;
		}
	}
	if (accepted && pick(15) == 0 && t < resolve_due) { /* an extension */
		extension = 3 + pick(5);
		int64_t ext_due;
		if (gz_sla_extend(g->c, resolve_due, extension, &ext_due, err))
			return -1;
		snprintf(data, sizeof(data), "{\"workdays\":%d,\"reason\":\"需采购配件\"}",
		         extension);
		t += 3600000;
		if (ev(g, id, t, actor_handler, handler_name, "request_extension", status, NULL,
		       NULL, data, err))
			return -1;
		t += 2 * 3600000;
		snprintf(data, sizeof(data), "{\"approve\":true,\"workdays\":%d}", extension);
		if (ev(g, id, t, actor_staff, staff, "decide_extension", status, NULL, "同意延期",
		       data, err))
			return -1;
		resolve_due = ext_due;
	}
	/* resolution: most on time */
	bool late = pick(9) == 0;
	int64_t span = resolve_due - created;
	int64_t res_at =
	    created + (int64_t)((double)span * (late ? 1.1 + frand() : 0.15 + frand() * 0.8));
	if (res_at < t)
		res_at = t + 3600000;
	if (late && now > resolve_due && pick(2) == 0) {
		escalated = 1;
		if (ev(g, id, resolve_due + 60000, 0, "系统", "escalate", status, NULL,
		       "超期自动督办", "{\"reason\":\"overdue\"}", err))
			return -1;
	}
	if (accepted && res_at < now && stop > S_IN_PROGRESS &&
	    strcmp(status, "in_progress") == 0) {
		resolved = res_at;
		if (ev(g, id, res_at, actor_handler, handler_name, "resolve", status, "resolved",
		       NULL, "{\"result\":\"已处理完毕\"}", err))
			return -1;
		status = "resolved";
		int64_t v_at = res_at + (int64_t)((0.2 + frand()) * 86400000);
		if (v_at < now && stop > S_RESOLVED) {
			verified = v_at;
			if (ev(g, id, v_at, actor_staff, staff, "verify", "resolved", "verified",
			       "现场核查已处理", "{\"passed\":true}", err))
				return -1;
			status = "verified";
			int64_t c_at = v_at + (int64_t)((0.2 + frand() * 1.5) * 86400000);
			if (c_at < now && stop > S_VERIFIED) {
				closed = c_at;
				int r = pick(100);
				satisfaction = r < 72   ? "satisfied"
				               : r < 91 ? "basically_satisfied"
				                        : "dissatisfied";
				solved = r < 88;
				snprintf(data, sizeof(data),
				         "{\"satisfaction\":\"%s\",\"solved\":%s}", satisfaction,
				         solved ? "true" : "false");
				if (ev(g, id, c_at, actor_staff, staff, "callback", "verified",
				       "closed", "电话回访", data, err))
					return -1;
				status = "closed";
			}
		}
	}
	return gz_exec_args(
	    g->c, err,
	    "UPDATE work_orders SET status = ?, handler_org_id = nullif(?, 0), handler_unit_id = "
	    "nullif(?, 0), handler_unit_path = (SELECT path FROM units WHERE id = ?), "
	    "dispatched_at = ?, "
	    "accept_due_at = ?, accepted_at = nullif(?, 0), accepted_on_time = CASE WHEN ? > 0 "
	    "THEN CASE WHEN ? <= ? THEN 1 ELSE 0 END END, resolved_at = nullif(?, 0), "
	    "resolved_on_time = CASE WHEN ? > 0 THEN CASE WHEN ? <= ? THEN 1 ELSE 0 END END, "
	    "verified_at = nullif(?, 0), closed_at = nullif(?, 0), satisfaction = ?, "
	    "solved = nullif(?, -1), return_count = ?, return_reason = CASE WHEN ? > 0 THEN "
	    "'wrong_area' END, escalated = ?, overdue = ?, auto_escalated_due = CASE WHEN ? <> 0 "
	    "THEN resolve_due_at END, extension_workdays = ?, resolve_due_at = ?, updated_at = ? "
	    "WHERE id = ?",
	    "tiiiiiiiiiiiiiiitiiiiiiiiii", status, handler, handler_unit, handler_unit, dispatched,
	    accept_due, accepted, accepted, accepted, accept_due, resolved, resolved, resolved,
	    resolve_due, verified, closed, satisfaction, (int64_t)solved, (int64_t)returns,
	    (int64_t)returns, (int64_t)escalated, (int64_t)(!resolved && now > resolve_due),
	    (int64_t)escalated, (int64_t)extension, resolve_due, t, id);
}

struct demo_job {
	struct gen *g;
	int64_t from, to, now;
	int per_day;
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int demo_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct demo_job *j = ctx;
	j->g->c = c;
	for (int64_t day = j->from; day < j->to; day++) {
		int n = j->per_day / 2 + pick(j->per_day);
		if (gz_weekday(day) >= 5)
			n = n * 2 / 3;
		/* the day's calls in the order they came in: numbers and ids follow time */
		int64_t at[128];
		if (n > 128)
			n = 128;
		for (int k = 0; k < n; k++) /* office hours mostly: 7:00-21:00 Shanghai */
			at[k] = day * 86400000 - 8 * 3600000LL + (7 * 3600000LL) +
			        (int64_t)(frand() * 14 * 3600000);
		qsort(at, (size_t)n, sizeof(at[0]), cmp_i64);
		for (int k = 0; k < n && at[k] < j->now; k++)
			if (one_order(j->g, at[k], j->now, err))
				return -1;
	}
	return 0;
}

static int rebuild_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	(void)ctx;
	return gz_work_orders_rebuild_daily(c, err);
}

static int64_t id_of(struct gz_conn *c, const char *sql, const char *name, struct gz_err *err)
{
	int64_t id = 0;
	return gz_query_i64(c, err, &id, sql, "t", name) < 0 ? -1 : id;
}

/* The places orders are filed at (compounds and communities) with their community,
 * subdistrict, property company and staff; the organisations and accounts the routes
 * name.  0, or -1 with err. */
static int load_places(struct gen *g, struct gz_conn *c, struct gz_err *err)
{
	struct gz_stmt *s =
	    gz_stmt(c,
	            "SELECT id, name, coalesce(lat, 0), coalesce(lng, 0) FROM units "
	            "WHERE kind IN ('compound', 'community') ORDER BY id LIMIT 128",
	            err);
	if (!s)
		return -1;
	while (g->nplaces < 128 && gz_step(s, err) == 1) {
		struct place *p = &g->places[g->nplaces++];
		p->id = gz_col_i64(s, 0);
		snprintf(p->name, sizeof(p->name), "%s", gz_col_text(s, 1));
		p->lat = gz_col_double(s, 2);
		p->lng = gz_col_double(s, 3);
	}
	gz_stmt_done(s);
	s = gz_stmt(c, "SELECT id FROM orgs WHERE kind = 'property_company' ORDER BY id", err);
	if (!s)
		return -1;
	while (g->nproperty < 16 && gz_step(s, err) == 1)
		g->property[g->nproperty++] = gz_col_i64(s, 0);
	gz_stmt_done(s);
	static const char by_name[] = "SELECT id FROM orgs WHERE name = ?",
	                  unit_name[] = "SELECT id FROM units WHERE name = ?",
	                  user_name[] = "SELECT id FROM users WHERE username = ?";
	struct {
		int64_t *to;
		const char *sql, *name;
	} names[] = {
	    {&g->u_fengqili, unit_name, "凤岐里社区"},
	    {&g->u_yuancui_zhongli, unit_name, "远翠中里社区"},
	    {&g->u_huanxiu_dongli, unit_name, "环秀东里社区"},
	    {&g->u_shaliu_beilu, unit_name, "沙柳北路社区"},
	    {&g->u_dongxin, unit_name, "东新街道"},
	    {&g->o_jinshitu, by_name, "天津金仕途信息科技有限公司"},
	    {&g->o_leling, by_name, "乐龄智慧养老服务大厅"},
	    {&g->o_bank, by_name, "中国银行盘山道支行"},
	    {&g->o_mulin, by_name, "睦邻和事堂"},
	    {&g->o_laohuoji, by_name, "老伙计帮帮团"},
	    {&g->grid_worker, user_name, "wangge"},
	    {&g->resident, user_name, "jumin"},
	};
	for (size_t i = 0; i < GZ_ARRAY_LEN(names); i++)
		if ((*names[i].to = id_of(c, names[i].sql, names[i].name, err)) < 0)
			return -1;
	for (int i = 0; i < g->nplaces; i++) {
		struct place *p = &g->places[i];
		char kind[32];
		if (gz_unit_place(c, p->id, p->path, sizeof(p->path), &p->community,
		                  &p->subdistrict, kind, sizeof(kind), err))
			return -1;
		for (size_t k = 0; k < GZ_ARRAY_LEN(property_of); k++)
			if (strcmp(property_of[k].compound, p->name) == 0 &&
			    (p->property_org = id_of(c, by_name, property_of[k].company, err)) < 0)
				return -1;
		/* the staff who dispatch, verify and call back: the community's, else the
		 * subdistrict's */
		s = gz_stmt(c,
		            "SELECT id, display_name FROM users WHERE unit_id IN (?, ?) AND roles "
		            "LIKE '%staff%' ORDER BY CASE WHEN unit_id = ? THEN 0 ELSE 1 END, id "
		            "LIMIT 1",
		            err);
		if (!s)
			return -1;
		gz_bind_i64(s, 1, p->community);
		gz_bind_i64(s, 2, p->subdistrict);
		gz_bind_i64(s, 3, p->community);
		snprintf(p->staff_name, sizeof(p->staff_name), "河东区12345分中心");
		if (gz_step(s, err) == 1) {
			p->staff = gz_col_i64(s, 0);
			snprintf(p->staff_name, sizeof(p->staff_name), "%s", gz_col_text(s, 1));
		}
		gz_stmt_done(s);
	}
	/* a community's property matters go to the company of its compounds */
	for (int i = 0; i < g->nplaces; i++)
		for (int k = 0; !g->places[i].property_org && k < g->nplaces; k++)
			if (g->places[k].community == g->places[i].id && g->places[k].property_org)
				g->places[i].property_org = g->places[k].property_org;
	return 0;
}

int gz_work_orders_demo(struct gz_app *app, int days, int per_day, struct gz_err *err)
{
	static struct gen g;
	memset(&g, 0, sizeof(g));
	g.app = app;
	struct gz_conn *c = gz_db_reader(app->db);
	int rc = load_places(&g, c, err);
	gz_db_reader_done(app->db, c);
	if (rc)
		return -1;
	if (!g.nplaces || !g.nproperty)
		return gz_fail(err, GZ_E_CONFLICT, "load the demo units and organisations first");
	int64_t now = gz_now_ms(), today = gz_shanghai_day(now);
	/* a month per transaction keeps each commit reasonable */
	for (int64_t from = today - days; from <= today; from += 30) {
		struct demo_job j = {&g, from, from + 30 > today + 1 ? today + 1 : from + 30, now,
		                     per_day};
		if (gz_db_write(app->db, demo_fn, &j, err))
			return -1;
	}
	if (gz_db_write(app->db, rebuild_fn, NULL, err))
		return -1;
	return g.orders;
}
