// Server-rendered HTML: a tagged template that escapes every value unless it is already Html.
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESC[c]);

type Value = Html | string | number | boolean | undefined | null | Value[];

function render(v: Value): string {
  if (v === undefined || v === null || v === false) return "";
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join("");
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

export interface PageOptions {
  title: string;
  /** The signed-in user, for the header. */
  user?: { username: string; role: string };
  csrf: string;
  /** A message shown at the top (role=alert for errors, role=status otherwise). */
  flash?: { kind: "error" | "ok"; text: string };
}

/** The one page layout: skip link, header with navigation, main landmark, one CSS and one JS file. */
export function page(opts: PageOptions, body: Html): string {
  const { user } = opts;
  const flash = opts.flash
    ? html`<p class="flash ${opts.flash.kind}" role="${opts.flash.kind === "error" ? "alert" : "status"}">${opts.flash.text}</p>`
    : "";
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · Voting</title><link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script></head>
<body><a class="skip" href="#main">Skip to content</a>
<header><nav aria-label="Main"><a href="/">Voting</a> <a href="/elections">Elections</a> <a href="/verify">Verify a ballot</a>
${user?.role === "admin" ? html`<a href="/admin">Run elections</a>` : ""}
${user ? html`<span class="who">Signed in as ${user.username} (${user.role})</span>${form("/logout", opts.csrf, html`<button type="submit">Sign out</button>`, "inline")}` : html`<a href="/login">Sign in</a> <a href="/register">Register</a>`}
</nav></header>
<main id="main" tabindex="-1"><h1>${opts.title}</h1>${flash}${body}</main></body></html>`}`;
}

/** A POST form carrying the CSRF token. */
export function form(action: string, csrf: string, inner: Html, cls = "", extra = ""): Html {
  return html`<form method="post" action="${action}"${cls ? html` class="${cls}"` : ""}${extra ? new Html(` ${extra}`) : ""}><input type="hidden" name="_csrf" value="${csrf}">${inner}</form>`;
}
