// readings_test.mjs -- the status page's Readings rows in headless Chromium, for test_readings.sh.
//
// Usage: node readings_test.mjs EDGE_URL SCREENSHOT WANT_ROWS
// WANT_ROWS holds one "series|key=value key=value" line per row, in order. Checks the rows
// (and that each numeric or boolean field is charted), no console or page errors and no failed request,
// saves a full-page screenshot, and exits 1 on the first failed check.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';

const [edgeUrl, screenshot, wantFile] = process.argv.slice(2);
const want = readFileSync(wantFile, 'utf8').trim().split('\n');
const WAIT_MS = 30000;
const log = (msg) => process.stderr.write(`readings_test: ${msg}\n`);

async function main() {
	const errors = [];
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
	});
	try {
		const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
		page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
		page.on('pageerror', (e) => errors.push(String(e)));
		page.on('requestfailed', (r) => errors.push(`${r.url()}: ${r.failure() && r.failure().errorText}`));
		page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.url()}: ${r.status()}`); });
		await page.goto(`${edgeUrl}/`);
		const rows = () => page.evaluate(() => Array.from(document.querySelectorAll('#readings tr'), (tr) => {
			const vals = Array.from(tr.querySelectorAll('.rv'), (s) =>
				`${s.getAttribute('data-key')}=${s.getAttribute('data-value')}`);
			const numeric = Array.from(tr.querySelectorAll('.rv'), (s) => s.getAttribute('data-value'))
				.filter((v) => v === 'true' || v === 'false' || (v !== '' && !Number.isNaN(Number(v)))).length;
			const paths = Array.from(tr.querySelectorAll('svg.chart path'), (p) => p.getAttribute('d'));
			return { line: `${tr.getAttribute('data-series')}|${vals.join(' ')}`,
				shown: tr.children[0].textContent, numeric, paths };
		}));
		const deadline = Date.now() + WAIT_MS;
		let got = [];
		for (;;) {
			got = await rows();
			if (got.map((r) => r.line).join('\n') === want.join('\n')) break;
			if (Date.now() > deadline)
				throw new Error(`the Readings rows are\n${got.map((r) => r.line).join('\n')}\nnot\n${want.join('\n')}`);
			await page.waitForTimeout(500);
		}
		log(`ok: the ${got.length} Readings rows show the values sent`);
		for (const r of got) {
			if (r.shown !== r.line.split('|')[0]) throw new Error(`row "${r.line}" shows "${r.shown}"`);
			if (r.paths.length !== Math.min(4, r.numeric) || r.paths.some((d) => !/^M[0-9.]+ [0-9.]+L/.test(d)))
				throw new Error(`row "${r.line}": charts ${JSON.stringify(r.paths)} for ${r.numeric} numeric fields`);
		}
		log('ok: every numeric and boolean field is charted');
		const info = await page.evaluate(() => document.getElementById('readings-info').textContent);
		if (!info.startsWith(`${want.length} series`)) throw new Error(`the Readings footnote says "${info}"`);
		await page.screenshot({ path: screenshot, fullPage: true });
		if (errors.length) throw new Error(`errors on the page: ${errors.join(' | ')}`);
		log(`ok: no console error, page error or failed request; screenshot ${screenshot}`);
	} finally {
		await browser.close();
	}
}

main().then(() => process.exit(0), (e) => { log(`FAIL: ${e.message}`); process.exit(1); });
