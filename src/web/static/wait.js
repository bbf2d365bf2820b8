// The "Signing…" page (issue 16): asks the page's status URL every 2 s and reloads the page once
// the signature is no longer being applied. Replaces a <meta http-equiv="refresh">, which
// reloaded the page under a screen reader every 2 s. Without script the link still works.
const holder = document.querySelector('[data-firmo-wait]');
if (holder) {
  const url = holder.getAttribute('data-firmo-wait');
  const poll = async () => {
    try {
      const res = await fetch(url, { credentials: 'same-origin', cache: 'no-store',
                                     headers: { Accept: 'application/json' } });
      if (res.ok && !(await res.json()).waiting) {
        window.location.reload();
        return;
      }
    } catch {
      // A network hiccup: try again.
    }
    window.setTimeout(poll, 2000);
  };
  window.setTimeout(poll, 2000);
}
