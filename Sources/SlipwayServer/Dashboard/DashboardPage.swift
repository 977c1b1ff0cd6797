import Foundation

/// The dashboard's HTML: a shell the script enhances, with every app listed as it is now so the page says
/// something useful before (or without) the script.
enum DashboardPage {
    /// The page for `apps`.
    static func render(apps: [DashboardAppSummary]) -> String {
        let list =
            apps.isEmpty
            ? "<p class=\"empty\">No apps are configured.</p>"
            : apps.map(card).joined(separator: "\n")
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Slipway</title>
            <link rel="stylesheet" href="/dashboard.css">
            <script src="/dashboard.js" defer></script>
            </head>
            <body>
            <header class="top">
            <h1>Slipway</h1>
            <span class="stream" data-testid="stream-status" role="status" aria-live="polite"></span>
            <button type="button" class="sign-out" data-action="sign-out" hidden>Sign out</button>
            </header>
            <main>
            <h2 class="visually-hidden">Apps</h2>
            <p class="notice" data-testid="notice" role="status" aria-live="polite"></p>
            <section class="chaos" data-testid="chaos" aria-label="Chaos" hidden>
            <div class="chaos-head">
            <h2 class="chaos-title">Chaos</h2>
            <span class="chaos-state" data-testid="chaos-state"></span>
            <button type="button" class="danger" data-action="chaos-stop">Stop all chaos</button>
            <button type="button" data-action="chaos-release" hidden>Release</button>
            </div>
            <ul class="chaos-faults" data-testid="chaos-faults"></ul>
            <p class="chaos-line" data-testid="chaos-experiments"></p>
            <p class="chaos-line" data-testid="chaos-monkeys"></p>
            <p class="chaos-line" data-testid="chaos-kills"></p>
            </section>
            <div class="apps" data-testid="apps">
            \(list)
            </div>
            </main>
            </body>
            </html>

            """
    }

    /// One app's card: its name, stable release, instances, traffic and rollout line.
    static func card(_ app: DashboardAppSummary) -> String {
        let name = HTMLText.escape(app.name)
        let stable = app.stable.map { HTMLText.escape($0) } ?? "none"
        let rollout = app.rollout.map { "<p class=\"rollout-line\">\(HTMLText.escape($0))</p>" } ?? ""
        return """
            <section class="app" data-app="\(name)" aria-label="\(name)">
            <h3 class="app-name">\(name)</h3>
            <p class="app-line">stable \(stable) · \(app.healthyInstances)/\(app.desiredInstances) healthy</p>
            \(weightBar(app.weights))
            \(rollout)
            </section>
            """
    }

    /// The traffic split as an SVG bar (no inline style: the page's policy forbids it) and its text.
    static func weightBar(_ weights: [String: Double]) -> String {
        let versions = weights.sorted { $0.key < $1.key }.filter { $0.value > 0 }
        guard !versions.isEmpty else { return "<p class=\"weights-text\">no traffic routed</p>" }
        var offset = 0.0
        var rectangles: [String] = []
        for (index, (version, weight)) in versions.enumerated() {
            rectangles.append(
                "<rect class=\"c\(index % 8)\" x=\"\(number(offset))\" y=\"0\" width=\"\(number(weight))\" "
                    + "height=\"1\"><title>\(HTMLText.escape(version)) \(number(weight))%</title></rect>"
            )
            offset += weight
        }
        let text = versions.map { "\(HTMLText.escape($0.key)) \(number($0.value))%" }.joined(separator: " · ")
        return """
            <svg class="weights-svg" viewBox="0 0 100 1" preserveAspectRatio="none" role="img" \
            aria-label="traffic: \(text)">\(rectangles.joined())</svg>
            <p class="weights-text">\(text)</p>
            """
    }

    /// `75`, `33.3`: a percentage with at most one decimal.
    static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }
}
