// Issue 16: the e-mails look like what they are. The institution names itself (display name,
// contact, logo, brand colour); each signer's "documents to sign" message, taken from the test
// SMTP server, is rendered in Chromium at phone width: nothing is wider than the screen, there
// is one button, the link is also there as text, and the sender's name is the institution's.
// Screenshots (FIRMO_SCREENSHOTS=1): docs/screenshots/mail-<language>-sign_request-phone.png.
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { after, before, test } from 'node:test';

import { api, newPage, screenshot } from './harness.mjs';
import { readyRequest, startPortalWithMail } from './flows.mjs';

let firmo;
let browser;
let smtp;
let stop;

// A 96x32 PNG in one colour, made here (signature, IHDR, IDAT, IEND).
function logoPng() {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const [w, h] = [96, 32];
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(w * 3, Buffer.from([0xa6, 0x19, 0x2e]))]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

before(async () => {
  ({ firmo, browser, smtp, stop } = await startPortalWithMail());
  const client = api(firmo);
  await client.patch('/api/v1/issuer', {
    display_name: 'Comune di Bologna', support_email: 'urp@comune.bologna.it',
    support_url: 'https://www.comune.bologna.it/urp', brand_color: '#a6192e',
  });
  await client.request('PUT', '/api/v1/issuer/logo', { raw: logoPng(), contentType: 'image/png' });
});

after(async () => {
  await stop?.();
});

const signers = {
  it: { fiscal_code: 'RSSMRA80A01H501U' },
  nb: { national_identity_number: '15076500565', country: 'NO' },
  en: {},
};

for (const language of ['it', 'nb', 'en']) {
  test(`the ${language} invitation fits a phone, has one button and names the institution`,
    async () => {
      const to = `mail.${language}@example.org`;
      const { request } = await readyRequest(firmo, {
        signers: [{ who: { ...signers[language], email: to } }], notify: true,
      });
      const link = request.signers[0].portal_url;
      const mail = await smtp.waitFor((m) => m.to.includes(to) && m.html?.includes(link), 15000);
      assert.match(mail.headers.From, /^"?Comune di Bologna"? </, mail.headers.From);
      assert.ok(mail.text.includes(link), 'the link in the text part');
      assert.ok(mail.text.includes('urp@comune.bologna.it'), 'the contact in the text part');

      const page = await newPage(browser, 'phone');
      try {
        await page.setContent(mail.html, { waitUntil: 'load' });
        const seen = await page.evaluate(() => ({
          lang: document.documentElement.lang,
          viewport: document.querySelector('meta[name=viewport]')?.content,
          width: document.documentElement.scrollWidth,
          screen: window.innerWidth,
          anchors: [...document.querySelectorAll('a')].map((a) => a.href),
          text: document.body.innerText,
          logo: document.querySelector('img')?.naturalWidth,
        }));
        assert.equal(seen.lang, language);
        assert.match(seen.viewport, /width=device-width/);
        assert.ok(seen.width <= seen.screen, `${seen.width} px wide on a ${seen.screen} px screen`);
        assert.deepEqual(seen.anchors, [link], 'one button, to the link');
        assert.ok(seen.text.includes(link), 'the link also as text');
        assert.ok(seen.text.includes('Comune di Bologna'));
        assert.ok(seen.text.includes('urp@comune.bologna.it'));
        assert.ok(seen.logo > 0, 'the logo loads from its public URL');
        await screenshot(page, `mail-${language}-sign_request`);
      } finally {
        await page.context().close();
      }
    });
}
