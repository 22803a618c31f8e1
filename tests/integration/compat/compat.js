// compat.js -- two real InfluxDB clients from the npm registry write through iot-edge.
//
// Usage: node compat.js EDGE_URL TOKEN
// node-influx (`influx`, InfluxDB 1.x API) pings, then writes 250 points to
// /write in 5 batches with u/p; @influxdata/influxdb-client (2.x API) writes
// 300 points to /api/v2/write with `Authorization: Token`. Prints one line per
// client with what it wrote; exits non-zero on any client error.
'use strict';

const Influx = require('influx');
const { InfluxDB, Point } = require('@influxdata/influxdb-client');

const [edgeUrl, token] = process.argv.slice(2);
if (!edgeUrl || !token) {
  console.error('usage: node compat.js EDGE_URL TOKEN');
  process.exit(2);
}
const url = new URL(edgeUrl);
const BASE_NS = 1600000000000000000n;

async function nodeInflux() {
  const db = new Influx.InfluxDB({
    host: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    database: 'iot',
    username: 'device',
    password: token,
  });
  const hosts = await db.ping(5000);
  if (!hosts[0].online) throw new Error('node-influx: ping says offline');
  let sent = 0;
  for (let batch = 0; batch < 5; batch++) {
    const points = [];
    for (let i = 0; i < 50; i++) {
      const n = batch * 50 + i + 1;
      points.push({
        measurement: 'node_influx',
        tags: { client: 'node-influx', room: n % 2 ? 'odd room' : 'even,room' },
        fields: { v: n + 0.5, n, note: `point "${n}"` },
        timestamp: (BASE_NS + BigInt(n)).toString(),
      });
    }
    await db.writePoints(points, { precision: 'n' });
    sent += points.length;
  }
  console.log(`node-influx: ping version ${hosts[0].version}, wrote ${sent} points`);
}

async function influxdbClient() {
  const writeApi = new InfluxDB({ url: edgeUrl, token }).getWriteApi('my-org', 'my-bucket', 'ns', {
    batchSize: 100,
    flushInterval: 0,
    maxRetries: 0,
    defaultTags: { client: 'influxdb-client-js' },
  });
  for (let n = 1; n <= 300; n++) {
    writeApi.writePoint(
      new Point('influxdb_client')
        .tag('dev', `d${n % 3}`)
        .floatField('v', n / 4)
        .intField('n', n)
        .booleanField('even', n % 2 === 0)
        .timestamp((BASE_NS + BigInt(n)).toString()),
    );
  }
  await writeApi.close();
  console.log('influxdb-client: wrote 300 points');
}

(async () => {
  await nodeInflux();
  await influxdbClient();
})().catch((err) => {
  console.error(`client error: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
