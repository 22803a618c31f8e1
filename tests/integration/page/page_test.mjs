// page_test.mjs -- drives the status page at GET / in headless Chromium for test_status_page.sh.
//
// Usage: node page_test.mjs EDGE_URL ARTIFACT_DIR FIRST SECOND
// Talks with the shell script in lines: it prints a word on stdout
// (READY, STOP_INFLUX, STOP_EDGE, PASS) and waits for one line on stdin
// before going on; everything else goes to stderr. Exits 1 on the first
// failed assertion, closing the browser.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

const [edgeUrl, artifacts, firstArg, secondArg] = process.argv.slice(2);
const FIRST = Number(firstArg), SECOND = Number(secondArg);
const WAIT_MS = 40000;
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync'];

const stdin = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const log = (msg) => process.stderr.write(`page_test: ${msg}\n`);
class Failure extends Error {}
function check(cond, what) {
	if (!cond) throw new Failure(what);
	log(`ok: ${what}`);
}

// Tell the shell script `word` and wait for its answer line.
async function step(word) {
	process.stdout.write(`${word}\n`);
	const { value, done } = await stdin.next();
	if (done) throw new Failure(`the shell script went away after ${word}`);
	log(`${word} -> ${value}`);
}

async function status() {
	const r = await fetch(`${edgeUrl}/status`);
	if (r.status !== 200) throw new Failure(`GET /status answered ${r.status}`);
	return r.json();
}

// What the page shows: state, the data-value and text of every number.
async function shown(page) {
	return page.evaluate(() => {
		const ids = ['backlog', 'received', 'stored', 'sent', 'rejected', 'dropped', 'rate-in', 'rate-out'];
		const out = { state: document.getElementById('state-box').getAttribute('data-state'),
			stateText: document.getElementById('state').textContent,
			detail: document.getElementById('state-detail').textContent,
			lastError: document.getElementById('last-error').textContent,
			version: document.getElementById('version').textContent,
			maxIn: Number(document.getElementById('spark-in').getAttribute('data-max')),
			maxOut: Number(document.getElementById('spark-out').getAttribute('data-max')),
			maxBacklog: Number(document.getElementById('spark-backlog').getAttribute('data-max')),
			path: document.querySelector('#spark-backlog path.l').getAttribute('d') || '',
			collectorsHidden: document.getElementById('collectors-box').hidden,
			ingestHidden: document.getElementById('ingest-box').hidden };
		const rows = (id) => Array.from(document.querySelectorAll(`#${id} tr`), (tr) =>
			Array.from(tr.children, (td) => td.textContent));
		out.collectors = rows('collectors');
		out.ingestRows = rows('ingest-more');
		for (const id of ids) {
			const e = document.getElementById(id);
			out[id] = { value: e.getAttribute('data-value'), text: e.textContent };
		}
		return out;
	});
}

// The page's figures against /status's own, field by field.
function compare(got, st) {
	const want = { backlog: st.buffer.points, received: st.ingest.points, stored: st.buffer.appended,
		sent: st.uplink.points_sent, rejected: st.buffer.rejected, dropped: st.buffer.dropped };
	const diffs = [];
	for (const [id, v] of Object.entries(want)) {
		if (got[id].value !== String(v) || got[id].text.replace(/,/g, '') !== String(v))
			diffs.push(`${id}: page ${got[id].value} ("${got[id].text}"), /status ${v}`);
	}
	return diffs;
}

// Poll until the page shows `state` and the expected counts, equal to /status's.
async function settle(page, state, expect) {
	const deadline = Date.now() + WAIT_MS;
	let last = '';
	for (;;) {
		const got = await shown(page);
		const st = await status();
		const diffs = compare(got, st);
		for (const [id, v] of Object.entries(expect))
			if (got[id].value !== String(v)) diffs.push(`${id}: page ${got[id].value}, expected ${v}`);
		if (got.state !== state) diffs.push(`state: page ${got.state}, expected ${state}`);
		if (diffs.length === 0) return { got, st };
		last = diffs.join('; ');
		if (Date.now() > deadline) throw new Failure(`the page did not settle: ${last}`);
		await page.waitForTimeout(500);
	}
}

// The page (served by iot-edge) with /status answered by `answer`: what it then shows.
async function fake(context, answer, ready) {
	const page = await context.newPage();
	const errors = [];
	page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
	page.on('pageerror', (e) => errors.push(String(e)));
	await page.route('**/status', (route) => route.fulfill(answer));
	await page.goto(`${edgeUrl}/`);
	await page.waitForFunction(ready, null, { timeout: WAIT_MS }).catch(() => {
		throw new Failure(`the page with a fake /status never got ready (errors: ${errors.join(' | ')})`);
	});
	const got = await page.evaluate(() => ({
		state: document.getElementById('state-box').getAttribute('data-state'),
		stateText: document.getElementById('state').textContent,
		detail: document.getElementById('state-detail').textContent,
		collectorsHidden: document.getElementById('collectors-box').hidden,
		collectors: document.getElementById('collectors').textContent,
		ingestHidden: document.getElementById('ingest-box').hidden,
		ingest: document.getElementById('ingest-more').textContent,
		newest: document.getElementById('newest-box').hidden ? null : document.getElementById('newest-age').textContent,
		drain: document.getElementById('drain-box').hidden ? null : document.getElementById('drain').textContent,
		all: document.getElementById('all').textContent,
		imgs: document.querySelectorAll('img').length, pwned: window.pwned === 1,
	}));
	await page.close();
	return { got, errors };
}

// Figures /status may or may not have, hostile text, no figures at all, an error.
async function fakes(context) {
	const hostile = '<img src=x onerror="window.pwned=1">';
	const rich = { version: '9.9.9', uptime_s: 100,
		ingest: { requests: 4, points: 7, endpoints: { data: { requests: 3, points: 7 } }, answers: { 201: 3 } },
		buffer: { points: 5, oldest_age_s: 90, newest_age_s: 2, appended: 7, rejected: 0, dropped: 0 },
		uplink: { state: 'authentication failed', points_sent: 2, last_error: hostile, drain_rate_points_per_s: 3,
			backlog_drain_s: 125 },
		collectors: [{ name: '<b>cpu</b>', type: 'cpu_temp', interval_s: 60, runs: 6, points: 6, skipped: 0, errors: 1,
			last_run_age_s: 12, last_run_unix_s: 1764320000, last_error: hostile }] };
	let r = await fake(context, { status: 200, contentType: 'application/json', body: JSON.stringify(rich) },
		() => document.getElementById('state-box').getAttribute('data-state') === 'auth');
	check(r.errors.length === 0, `a /status with every optional figure: no errors (${r.errors.join(' | ')})`);
	check(r.got.stateText === 'AUTH FAILED', `authentication failed shows AUTH FAILED ("${r.got.stateText}")`);
	check(!r.got.collectorsHidden && r.got.collectors.includes('<b>cpu</b>') &&
		r.got.collectors.includes('type cpu_temp, interval 1 min, runs 6, points 6, skipped 0, errors 1, last run 12 s ago'),
		`collectors shown, as text ("${r.got.collectors}")`);
	check(!r.got.ingestHidden && r.got.ingest.includes('requests 3, points 7') && r.got.ingest.includes('answers 201'),
		`per-endpoint ingest and answers shown ("${r.got.ingest}")`);
	check(r.got.newest === '2.0 s' && r.got.drain === '2 min 5 s', `newest age ${r.got.newest}, drain ${r.got.drain}`);
	check(r.got.imgs === 0 && !r.got.pwned && r.got.detail.includes(hostile),
		'markup in /status stays text: no element made, no script run');

	r = await fake(context, { status: 200, contentType: 'application/json', body: '{}' },
		() => document.getElementById('state-box').getAttribute('data-state') === 'other');
	check(r.errors.length === 0, `a /status with no figures: no errors (${r.errors.join(' | ')})`);
	check(r.got.collectorsHidden && r.got.ingestHidden && r.got.newest === null && r.got.drain === null,
		'absent optional figures: their sections stay hidden');

	r = await fake(context, { status: 503, contentType: 'application/json', body: '{"error":"x"}' },
		() => document.getElementById('state-box').getAttribute('data-state') === 'unreachable');
	check(r.got.stateText === 'iot-edge unreachable' && r.got.detail.includes('HTTP 503'),
		`a 503 from /status: "${r.got.stateText}" (${r.got.detail})`);
}

async function main() {
	mkdirSync(artifacts, { recursive: true });
	const errors = [], pageErrors = [], failed = [];
	const context = await chromium.launchPersistentContext(process.env.CHROMIUM_PROFILE, {
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true, args: FLAGS, viewport: { width: 412, height: 915 }, deviceScaleFactor: 1,
		handleSIGTERM: false, handleSIGINT: false, handleSIGHUP: false,
	});
	// The shell script stops us with SIGTERM when it fails: close Chromium, then exit.
	process.once('SIGTERM', () => {
		log('SIGTERM: closing the browser');
		context.close().finally(() => process.exit(143));
	});
	try {
		await fakes(context);
		const page = context.pages()[0] || await context.newPage();
		page.on('console', (m) => {
			if (m.type() === 'error') errors.push(m.text());
			else if (m.type() === 'warning') log(`console warning: ${m.text()}`);
		});
		page.on('pageerror', (e) => pageErrors.push(String(e)));
		page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure() && r.failure().errorText}`));
		page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.url()}: ${r.status()}`); });
		const clean = (when) => {
			check(errors.length === 0, `no console errors ${when} (${errors.join(' | ')})`);
			check(pageErrors.length === 0, `no page errors ${when} (${pageErrors.join(' | ')})`);
			check(failed.length === 0, `no failed requests ${when} (${failed.join(' | ')})`);
		};

		const resp = await page.goto(`${edgeUrl}/`);
		check(resp.status() === 200, `GET / answers 200 (${resp.status()})`);
		const h = resp.headers();
		check(h['content-type'] === 'text/html; charset=utf-8', `Content-Type ${h['content-type']}`);
		check(h['cache-control'] === 'no-cache', `Cache-Control ${h['cache-control']}`);
		const csp = h['content-security-policy'] || '';
		check(/default-src 'none'/.test(csp) && /script-src 'sha256-[A-Za-z0-9+/]{43}='/.test(csp) &&
			/style-src 'sha256-[A-Za-z0-9+/]{43}='/.test(csp) && /connect-src 'self'/.test(csp) &&
			!/unsafe/.test(csp), `Content-Security-Policy by hashes, nothing unsafe (${csp})`);
		check(await page.title() === 'iot-edge', 'the title is iot-edge');

		// Phase 1: the page runs before any reading arrives, so it sees them come.
		await settle(page, 'ok', { received: 0, sent: 0, backlog: 0 });
		const st0 = await status();
		check((await shown(page)).version === st0.version, `the version shown is /status's (${st0.version})`);
		await step('READY');
		let { got } = await settle(page, 'ok', { received: FIRST, stored: FIRST, sent: FIRST, backlog: 0,
			rejected: 0, dropped: 0 });
		check(got.stateText === 'OK', `the state line says OK ("${got.stateText}")`);
		log(`ok: received, stored, sent = ${FIRST}, backlog, rejected, dropped = 0, as /status says`);
		// Figures /status may have: shown when it has them, hidden when not.
		const st1 = await status();
		const eps = st1.ingest.endpoints;
		if (eps && eps.data) {
			check(!got.ingestHidden && got.ingestRows.some((r) => r[0] === 'endpoints data' &&
				r[1] === `requests ${eps.data.requests}, points ${eps.data.points}`) && eps.data.points === FIRST,
			`/status has ingest.endpoints: the page shows data's ${FIRST} points`);
		} else {
			check(got.ingestHidden === !Object.values(st1.ingest).some((v) => v && typeof v === 'object'),
				'no nested ingest figures in /status: the ingest details stay hidden');
		}
		const cols = Array.isArray(st1.collectors) ? st1.collectors.map((c) => c.name) :
			Object.keys(st1.collectors || {});
		if (cols.length)
			check(!got.collectorsHidden && cols.every((n) => got.collectors.some((r) => r[0] === n)),
				`/status lists collectors ${cols.join(', ')}: the page shows each`);
		else
			check(got.collectorsHidden, '/status lists no collector: the collectors section stays hidden');
		// Two more polls: the rates that saw the readings arrive stay in the sparklines.
		await page.waitForTimeout(4500);
		got = await shown(page);
		check(got.maxIn > 0 && got.maxOut > 0, `the rate sparklines saw data flow (max in ${got.maxIn}/s, out ${got.maxOut}/s)`);
		check(/^M[0-9.]+ [0-9.]+(L[0-9.]+ [0-9.]+)+$/.test(got.path), 'the backlog sparkline is drawn');
		await page.screenshot({ path: join(artifacts, 'status_page_ok.png'), fullPage: true });
		clean('while data flows');

		// Phase 2: InfluxDB goes away, SECOND more readings arrive.
		await step('STOP_INFLUX');
		({ got } = await settle(page, 'failing', { received: FIRST + SECOND, stored: FIRST + SECOND,
			sent: FIRST, backlog: SECOND }));
		check(got.stateText === 'FAILING', `the state line says FAILING ("${got.stateText}")`);
		check(got.maxBacklog === SECOND, `the backlog sparkline rose to ${SECOND} (${got.maxBacklog})`);
		check(got.lastError !== 'none' && got.lastError !== '-', `the uplink's last error is shown ("${got.lastError}")`);
		log(`ok: backlog = ${SECOND}, received = stored = ${FIRST + SECOND}, sent = ${FIRST}, as /status says`);
		await page.screenshot({ path: join(artifacts, 'status_page.png'), fullPage: true });
		clean('while InfluxDB is down');

		// Phase 3: iot-edge stops: the page says so, and keeps the last figures.
		await step('STOP_EDGE');
		const deadline = Date.now() + WAIT_MS;
		while ((got = await shown(page)).state !== 'unreachable') {
			if (Date.now() > deadline) throw new Failure(`the page did not turn unreachable (state ${got.state})`);
			await page.waitForTimeout(500);
		}
		check(got.stateText === 'iot-edge unreachable', `the state line says "${got.stateText}"`);
		check(got.backlog.value === String(SECOND), `the last backlog stays shown (${got.backlog.value})`);
		check(failed.length > 0 && failed.every((f) => f.startsWith(`${edgeUrl}/status`) ||
			f.startsWith(`${edgeUrl}/readings`)),
			`only GET /status (and /readings) failed once iot-edge stopped (${failed.length} failures)`);
		check(pageErrors.length === 0, 'no page errors after iot-edge stopped');
		await page.screenshot({ path: join(artifacts, 'status_page_unreachable.png'), fullPage: true });
		log(`screenshots in ${artifacts}: status_page_ok.png, status_page.png (InfluxDB down), status_page_unreachable.png`);
		await step('PASS');
	} finally {
		await context.close();
	}
}

main().then(() => process.exit(0), (e) => {
	log(`FAIL: ${e instanceof Failure ? e.message : e.stack}`);
	process.stdout.write('FAIL\n');
	process.exit(1);
});
