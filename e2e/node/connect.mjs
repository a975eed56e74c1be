// Drives the sandbox's Connect pages over plain HTTP, the way a person clicks through them:
// every step submits the HTML form that holds the button a person would press, with the form's
// own hidden fields, so the test follows whatever the pages ask for (flow ids, CSRF tokens).
// Only the element ids are assumed; they are Smartcar's own (the Node SDK's Selenium helpers use
// them): #continue-button, #<MAKE>.brand-list-item, #username/#password/#sign-in-button,
// .page-content with #approval-button / #deny-button right after sign-in.

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Decodes the HTML character references that attribute values and text can hold. */
export function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(n) ? String.fromCodePoint(n) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** Parses the attributes of one start tag's inner text (after the tag name). */
export function parseAttrs(s) {
  const attrs = {};
  const re = /([^\s"'=<>\/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (const m of s.matchAll(re)) {
    const v = m[2] ?? m[3] ?? m[4];
    attrs[m[1].toLowerCase()] = v === undefined ? '' : decodeEntities(v);
  }
  return attrs;
}

/** Every <form> of a page, with its attributes, its fields and its submit buttons. */
export function parseForms(html) {
  const forms = [];
  for (const fm of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form\s*>/gi)) {
    const form = { attrs: parseAttrs(fm[1]), fields: [], buttons: [] };
    const body = fm[2].replace(/<!--[\s\S]*?-->/g, '');
    for (const m of body.matchAll(/<(input|button|textarea|select)\b([^>]*)>/gi)) {
      const tag = m[1].toLowerCase();
      const a = parseAttrs(m[2]);
      const type = (a.type ?? (tag === 'button' ? 'submit' : 'text')).toLowerCase();
      if (tag === 'button' || (tag === 'input' && (type === 'submit' || type === 'image'))) {
        if (type === 'submit' || type === 'image') form.buttons.push(a);
        continue;
      }
      if (!a.name || 'disabled' in a) continue;
      if (tag === 'textarea') {
        const end = body.indexOf('</textarea', m.index);
        const text = body.slice(m.index + m[0].length, end < 0 ? undefined : end);
        form.fields.push({ name: a.name, value: decodeEntities(text) });
      } else if (tag === 'select') {
        const end = body.indexOf('</select', m.index);
        const opts = [...body.slice(m.index, end < 0 ? undefined : end).matchAll(/<option\b([^>]*)>([^<]*)/gi)]
          .map((o) => ({ a: parseAttrs(o[1]), text: decodeEntities(o[2]).trim() }));
        const chosen = opts.find((o) => 'selected' in o.a) ?? opts[0];
        if (chosen) form.fields.push({ name: a.name, value: chosen.a.value ?? chosen.text });
      } else if (type === 'checkbox' || type === 'radio') {
        if ('checked' in a) form.fields.push({ name: a.name, value: a.value ?? 'on' });
      } else if (type !== 'button' && type !== 'reset' && type !== 'file') {
        form.fields.push({ name: a.name, value: a.value ?? '' });
      }
    }
    forms.push(form);
  }
  return forms;
}

/** True when the page has an element with this id. */
export function hasId(html, id) {
  return new RegExp(`\\sid\\s*=\\s*["']?${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["'\\s>]`).test(html);
}

/**
 * A tiny browser: one origin's cookies, manual redirects, forms. It stops at the first redirect
 * that leaves the sandbox (the app's redirect URI) and returns that URL.
 */
export class ConnectDriver {
  constructor(origin, { log = () => {} } = {}) {
    this.origin = new URL(origin).origin;
    this.cookies = new Map();
    this.log = log;
    this.page = null; // { url, html, status }
  }

  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  keepCookies(res) {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((x) => /^\s*max-age\s*=\s*(0|-)/i.test(x));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /**
   * Requests url and follows same-origin redirects (as GET). Returns { done: URL } when the
   * sandbox redirects elsewhere (back to the app), else the page it landed on.
   */
  async request(url, { method = 'GET', body } = {}) {
    for (let hops = 0; hops < 10; hops++) {
      const u = new URL(url);
      if (u.origin !== this.origin) return { done: u };
      const headers = { Accept: 'text/html' };
      const cookie = this.cookieHeader();
      if (cookie) headers.Cookie = cookie;
      if (body !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded';
      const res = await fetch(u, { method, body, headers, redirect: 'manual' });
      this.keepCookies(res);
      this.log(`${method} ${u.pathname}${u.search.length > 60 ? u.search.slice(0, 60) + '…' : u.search} -> ${res.status}`);
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        await res.arrayBuffer();
        url = new URL(res.headers.get('location'), u).href;
        method = 'GET';
        body = undefined;
        continue;
      }
      const html = await res.text();
      this.page = { url: u.href, html, status: res.status };
      if (res.status !== 200) {
        throw new Error(`Connect answered ${res.status} for ${method} ${u.href}:\n${html.slice(0, 2000)}`);
      }
      return this.page;
    }
    throw new Error(`too many redirects from ${url}`);
  }

  /** Opens a Connect URL. */
  open(url) {
    return this.request(url);
  }

  /** True when the current page has an element with this id. */
  has(id) {
    return this.page !== null && hasId(this.page.html, id);
  }

  /**
   * Presses the submit button with this id: submits its form with the form's fields, the
   * button's own name=value, and the given field values (an array value repeats the name).
   */
  async press(buttonId, values = {}) {
    if (!this.page) throw new Error('no page open');
    const form = parseForms(this.page.html).find((f) => f.buttons.some((b) => b.id === buttonId));
    if (!form) {
      throw new Error(`no form with a submit button #${buttonId} on ${this.page.url}:\n${this.page.html.slice(0, 3000)}`);
    }
    const button = form.buttons.find((b) => b.id === buttonId);
    const params = new URLSearchParams();
    const overridden = new Set(Object.keys(values));
    for (const f of form.fields) if (!overridden.has(f.name)) params.append(f.name, f.value);
    for (const [k, v] of Object.entries(values)) for (const x of [].concat(v)) params.append(k, x);
    if (button.name) params.append(button.name, button.value ?? '');
    const method = (button.formmethod ?? form.attrs.method ?? 'get').toUpperCase();
    const action = new URL(button.formaction ?? form.attrs.action ?? this.page.url, this.page.url);
    if (method === 'GET') {
      action.search = params.toString();
      return this.request(action.href);
    }
    return this.request(action.href, { method: 'POST', body: params.toString() });
  }

  /**
   * Clicks through preamble, brand, login and permissions, as Smartcar's own SDK test helpers
   * do: right after signing in, the page holds .page-content and #approval-button (the
   * vehicles to share are chosen on that same page). Returns the URL Connect sent the user
   * back to.
   */
  async walk(authUrl, { make = 'TESLA', username, password = 'any password', deny = false } = {}) {
    await this.open(authUrl);
    await this.press('continue-button');
    await this.press(make);
    await this.press('sign-in-button', { username, password });
    if (!/class\s*=\s*["'][^"']*\bpage-content\b/.test(this.page.html)) {
      throw new Error(`the page after sign-in has no .page-content (${this.page.url}):\n${this.page.html.slice(0, 2000)}`);
    }
    const last = await this.press(deny ? 'deny-button' : 'approval-button');
    if (!last.done) throw new Error(`Connect did not redirect back to the app; it showed ${last.url}:\n${last.html.slice(0, 2000)}`);
    return last.done;
  }
}
