/// The dashboard's sign-in page: one password field, no script, no external resource.
enum LoginPage {
    /// The `Content-Security-Policy` of the page: nothing may load, only its inline style applies, and the form
    /// may only post back here.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// The page, with `message` (plain text) above the form when given; `next` is where a successful sign-in goes.
    static func html(message: String? = nil, next: String = "/") -> String {
        let destination =
            next == "/" ? "" : "\n    <input type=\"hidden\" name=\"next\" value=\"\(HTMLText.escape(next))\">"
        let notice = message.map { "\n  <p class=\"message\" role=\"alert\">\(HTMLText.escape($0))</p>" } ?? ""
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="no-referrer">
            <title>Sign in · Slipway</title>
            <style>
              :root { color-scheme: light dark; --fg: #1c1e21; --muted: #5f6670; --bg: #f4f5f7; --card: #fff;
                      --line: #d5d9de; --accent: #2458d6; --bad: #b3261e; }
              @media (prefers-color-scheme: dark) {
                :root { --fg: #e6e8eb; --muted: #a0a7b1; --bg: #15171a; --card: #1e2125; --line: #353a41;
                        --accent: #7aa2ff; --bad: #ff8a80; }
              }
              * { box-sizing: border-box; }
              body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: var(--bg);
                     color: var(--fg); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
              main { width: min(22rem, calc(100vw - 2rem)); background: var(--card); border: 1px solid var(--line);
                     border-radius: 10px; padding: 2rem 1.75rem; }
              h1 { margin: 0 0 .25rem; font-size: 1.35rem; }
              p { margin: 0 0 1.25rem; color: var(--muted); font-size: .9rem; }
              .message { color: var(--bad); font-weight: 600; }
              label { display: block; font-weight: 600; margin-bottom: .35rem; }
              input { width: 100%; padding: .6rem .7rem; font: inherit; color: inherit; background: transparent;
                      border: 1px solid var(--line); border-radius: 6px; }
              input:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
              button { margin-top: 1rem; width: 100%; padding: .65rem; font: inherit; font-weight: 600;
                       color: #fff; background: var(--accent); border: 0; border-radius: 6px; cursor: pointer; }
            </style>
            </head>
            <body>
            <main>
              <h1>Slipway</h1>
              <p>Sign in with the controller's API token (the one <code>controller.token</code> names, or by default the one in the state directory's <code>api-token</code> file).</p>\(notice)
              <form method="post" action="/login">
                <label for="token">API token</label>
                <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
                <button type="submit">Sign in</button>\(destination)
              </form>
            </main>
            </body>
            </html>

            """
    }
}
