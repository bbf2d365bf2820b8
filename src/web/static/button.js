// <firmo-sign-button>: the "Sign with Firmo" button an institution puts on its own pages
// (docs/BUTTON.md). No dependencies, no build step. Works as a module or a classic script.
// On a phone a click opens the universal link; on a desktop it opens a dialog with the QR code
// to scan with the phone. Styles live in a constructed stylesheet inside the shadow root, so a
// strict Content-Security-Policy on the embedding page (no 'unsafe-inline') does not block them.
(() => {
  'use strict';

  const TAG = 'firmo-sign-button';
  if (typeof window === 'undefined' || !window.customElements || customElements.get(TAG)) return;

  const TEXT = {
    en: {
      label: 'Sign with Firmo',
      title: 'Sign with Firmo on your phone',
      scan: 'Scan the QR code with your phone’s camera to open the signing page.',
      link: 'Or open this link on the device where you want to sign:',
      qr: 'QR code of the signing link',
      close: 'Close',
    },
    it: {
      label: 'Firma con Firmo',
      title: 'Firma con Firmo dal telefono',
      scan: 'Inquadra il codice QR con la fotocamera del telefono per aprire la pagina di firma.',
      link: 'Oppure apri questo link sul dispositivo con cui vuoi firmare:',
      qr: 'Codice QR del link di firma',
      close: 'Chiudi',
    },
    nb: {
      label: 'Signer med Firmo',
      title: 'Signer med Firmo på telefonen',
      scan: 'Skann QR-koden med kameraet på telefonen for å åpne signeringssiden.',
      link: 'Eller åpne denne lenken på enheten du vil signere med:',
      qr: 'QR-kode for signeringslenken',
      close: 'Lukk',
    },
  };

  const CSS = `
:host { display: inline-block; vertical-align: middle; --firmo-blue: #0b5cad;
        --firmo-blue-dark: #084684; --firmo-ink: #1b1f24; }
:host([hidden]) { display: none; }
button.firmo { display: inline-flex; align-items: center; gap: .5em; box-sizing: border-box;
  height: 44px; min-width: 44px; padding: 0 18px 0 14px; margin: 0; border: 2px solid var(--firmo-blue);
  border-radius: 8px; background: var(--firmo-blue); color: #fff; cursor: pointer;
  font: 600 16px/1 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; white-space: nowrap;
  -webkit-tap-highlight-color: transparent; }
button.firmo:hover { background: var(--firmo-blue-dark); border-color: var(--firmo-blue-dark); }
button.firmo:focus-visible { outline: 3px solid var(--firmo-blue); outline-offset: 2px;
  box-shadow: 0 0 0 2px #fff; }
button.firmo[aria-busy="true"] { cursor: progress; opacity: .8; }
.mark { width: 24px; height: 24px; flex: none; }
.mark .disc { fill: #fff; }
.mark .pen { fill: none; stroke: var(--firmo-blue); stroke-width: 2.2; stroke-linecap: round;
  stroke-linejoin: round; }
:host([variant="outline"]) button.firmo { background: #fff; color: var(--firmo-blue); }
:host([variant="outline"]) button.firmo:hover { background: #eaf2fb; color: var(--firmo-blue-dark); }
:host([variant="outline"]) .mark .disc { fill: var(--firmo-blue); }
:host([variant="outline"]) .mark .pen { stroke: #fff; }
:host([size="small"]) button.firmo { height: 36px; font-size: 14px; padding: 0 14px 0 10px;
  border-radius: 6px; }
:host([size="small"]) .mark { width: 20px; height: 20px; }
:host([size="large"]) button.firmo { height: 52px; font-size: 18px; padding: 0 22px 0 16px;
  border-radius: 10px; }
:host([size="large"]) .mark { width: 28px; height: 28px; }
dialog { box-sizing: border-box; width: min(26rem, calc(100vw - 2rem)); padding: 1.5rem;
  border: 0; border-radius: 12px; color: var(--firmo-ink); background: #fff;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  box-shadow: 0 12px 40px rgba(0, 0, 0, .3); }
dialog::backdrop { background: rgba(0, 0, 0, .55); }
.head { display: flex; align-items: flex-start; gap: 1rem; }
h2 { flex: 1; margin: 0; font-size: 1.25rem; line-height: 1.3; }
.close { flex: none; width: 44px; height: 44px; margin: -.5rem -.5rem 0 0; border: 0;
  border-radius: 8px; background: transparent; color: var(--firmo-ink); cursor: pointer;
  font: 400 28px/1 system-ui, sans-serif; }
.close:hover { background: #eef1f4; }
.close:focus-visible, a:focus-visible { outline: 3px solid var(--firmo-blue); outline-offset: 2px; }
.qr { display: block; width: 240px; height: 240px; margin: 1rem auto; image-rendering: pixelated;
  background: #fff; }
.qr[hidden] { display: none; }
p { margin: .75rem 0 0; }
a { color: var(--firmo-blue); overflow-wrap: anywhere; }
`;

  // The Firmo mark: a disc with a signature stroke. Decorative (the text says it all).
  const MARK =
    '<svg class="mark" viewBox="0 0 24 24" aria-hidden="true" focusable="false">' +
    '<circle class="disc" cx="12" cy="12" r="11"/>' +
    '<path class="pen" d="M5.5 15.5c1.6-3.2 3-6.5 4.2-6.5 1.3 0-.6 6.4.8 6.4 1.2 0 2-3 3.1-3 ' +
    '.9 0 .5 2.2 1.4 2.2.8 0 1.4-1 2.2-1.6M6 18h12"/></svg>';

  const TEMPLATE =
    `<button class="firmo" type="button" part="button">${MARK}<span class="text"></span></button>` +
    '<dialog part="dialog" aria-labelledby="firmo-title" aria-describedby="firmo-scan">' +
    '<div class="head"><h2 id="firmo-title"></h2>' +
    '<button class="close" type="button"><span aria-hidden="true">×</span></button></div>' +
    '<p id="firmo-scan"></p><img class="qr" width="240" height="240" alt="">' +
    '<p class="link-text"></p><p><a class="link" rel="noopener"></a></p></dialog>';

  let parsed = null;
  function template() {
    if (!parsed) {
      parsed = document.createElement('template');
      parsed.innerHTML = TEMPLATE;
    }
    return parsed;
  }

  let sheet = null;
  function styleSheet() {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
    }
    return sheet;
  }
  const constructable = (() => {
    try {
      return 'adoptedStyleSheets' in Document.prototype && !!new CSSStyleSheet().replaceSync;
    } catch {
      return false;
    }
  })();

  class FirmoSignButton extends HTMLElement {
    static get observedAttributes() {
      return ['lang'];
    }

    constructor() {
      super();
      const root = this.attachShadow({ mode: 'open' });
      if (constructable) {
        root.adoptedStyleSheets = [styleSheet()];
      } else {
        // Browsers without constructable stylesheets (before Safari 16.4): a <style> element,
        // which a strict style-src would block; the button then falls back to a plain button.
        const style = document.createElement('style');
        style.textContent = CSS;
        root.appendChild(style);
      }
      root.appendChild(template().content.cloneNode(true));
      this._button = root.querySelector('button.firmo');
      this._dialog = root.querySelector('dialog');
      this._button.addEventListener('click', () => this._activate());
      root.querySelector('.close').addEventListener('click', () => this.close());
      // A click on the backdrop lands on the <dialog> itself.
      this._dialog.addEventListener('click', (e) => {
        if (e.target === this._dialog) this.close();
      });
      // Esc (the browser's own `cancel`) and close() both end here: focus goes back.
      this._dialog.addEventListener('close', () => this._button.focus());
    }

    connectedCallback() {
      this._render();
    }

    attributeChangedCallback() {
      this._render();
    }

    // The language: the `lang` attribute, else the nearest lang= around the element.
    get language() {
      const own = this.getAttribute('lang') || (this.closest('[lang]') || {}).lang || '';
      const code = own.toLowerCase().split('-')[0];
      if (code === 'no' || code === 'nn') return 'nb';
      return TEXT[code] ? code : 'en';
    }

    // Phone: the `mobile` attribute, a coarse pointer (touch screen) or a narrow viewport.
    get isMobile() {
      if (this.hasAttribute('mobile')) return true;
      const mq = (q) => !!(window.matchMedia && window.matchMedia(q).matches);
      return mq('(pointer: coarse)') || mq('(max-width: 768px)');
    }

    get open() {
      return this._dialog.open;
    }

    close() {
      if (this._dialog.open) this._dialog.close();
    }

    _render() {
      const t = TEXT[this.language];
      this.shadowRoot.querySelector('.text').textContent = t.label;
      this.shadowRoot.querySelector('h2').textContent = t.title;
      this.shadowRoot.querySelector('#firmo-scan').textContent = t.scan;
      this.shadowRoot.querySelector('.link-text').textContent = t.link;
      this.shadowRoot.querySelector('.close').setAttribute('aria-label', t.close);
      this.shadowRoot.querySelector('.qr').alt = t.qr;
    }

    // 1. `firmo-click` (cancelable): a listener may call preventDefault() to do everything
    //    itself, or event.detail.ready(promise) to set href/qr first (e.g. after asking its
    //    back end to create the signature request); the button waits for every such promise.
    // 2. The attributes are read only then: phone -> the universal link, desktop -> the dialog.
    async _activate() {
      if (this._busy) return;
      const pending = [];
      const mobile = this.isMobile;
      const event = new CustomEvent('firmo-click', {
        bubbles: true,
        composed: true,
        cancelable: true,
        detail: {
          href: this.getAttribute('href'),
          qr: this.getAttribute('qr'),
          mobile,
          ready: (promise) => {
            pending.push(Promise.resolve(promise));
          },
        },
      });
      if (!this.dispatchEvent(event)) return;
      if (pending.length) {
        this._busy = true;
        this._button.setAttribute('aria-busy', 'true');
        try {
          await Promise.all(pending);
        } catch (err) {
          console.warn('firmo-sign-button: not opened, a firmo-click listener failed:', err);
          return;
        } finally {
          this._busy = false;
          this._button.removeAttribute('aria-busy');
        }
      }
      const href = this.getAttribute('href');
      if (!href) {
        console.warn('firmo-sign-button: no href to open');
        return;
      }
      if (mobile) {
        window.location.assign(href);
      } else {
        this._showDialog(href, this.getAttribute('qr'));
      }
    }

    _showDialog(href, qr) {
      const root = this.shadowRoot;
      const img = root.querySelector('.qr');
      if (qr) {
        img.src = qr;
        img.hidden = false;
      } else {
        img.removeAttribute('src');
        img.hidden = true;
      }
      const link = root.querySelector('a.link');
      link.href = href;
      link.textContent = href;
      if (!this._dialog.open) this._dialog.showModal();
      root.querySelector('.close').focus();
    }
  }

  customElements.define(TAG, FirmoSignButton);
})();
