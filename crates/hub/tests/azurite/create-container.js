// Creates a container in Azurite (well-known devstoreaccount1 key, SharedKey auth).
const crypto = require('crypto');
const http = require('http');
const [port, container] = process.argv.slice(2);
const account = 'devstoreaccount1';
const key = Buffer.from('Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==', 'base64');
const date = new Date().toUTCString();
const version = '2021-08-06';
const path = `/${account}/${container}`;
const sts = ['PUT', '', '', '', '', '', '', '', '', '', '', '',
  `x-ms-date:${date}`, `x-ms-version:${version}`, `/${account}${path}`, 'restype:container'].join('\n');
const sig = crypto.createHmac('sha256', key).update(sts, 'utf8').digest('base64');
const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: `${path}?restype=container`,
  headers: { 'x-ms-date': date, 'x-ms-version': version, 'Content-Length': 0,
    Authorization: `SharedKey ${account}:${sig}` } }, (res) => {
  res.resume();
  res.on('end', () => process.exit(res.statusCode === 201 || res.statusCode === 409 ? 0 : 1));
});
req.on('error', (e) => { console.error(e.message); process.exit(1); });
req.end();
