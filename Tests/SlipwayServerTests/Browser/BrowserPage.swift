import Foundation
import SlipwayCore

/// One tab of a headless browser, driven over the DevTools protocol: navigate, evaluate JavaScript, wait for a
/// condition on the page (bounded polling, never a fixed sleep), take screenshots.
struct BrowserPage: Sendable {
    /// Why an evaluation or a wait failed.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let connection: DevToolsConnection
    /// The DevTools session attached to the tab.
    let session: String

    /// Opens a new tab of `browser`, `width` × `height` CSS pixels; `isolated` gives it cookies and storage of its
    /// own, as another person's browser would have.
    static func open(
        in browser: HeadlessChromium,
        width: Int = 1280,
        height: Int = 900,
        isolated: Bool = false
    ) async throws -> BrowserPage {
        let connection = try await DevToolsConnection.connect(port: browser.port, path: browser.browserPath)
        var parameters: [String: JSONValue] = ["url": "about:blank"]
        if isolated {
            let context = try await connection.send("Target.createBrowserContext")
            guard case .object(let fields) = context, let id = fields["browserContextId"]?.stringValue else {
                throw Failure(description: "Target.createBrowserContext answered \(context)")
            }
            parameters["browserContextId"] = .string(id)
        }
        let target = try await connection.send("Target.createTarget", parameters)
        guard case .object(let created) = target, let targetID = created["targetId"]?.stringValue else {
            throw Failure(description: "Target.createTarget answered \(target)")
        }
        let attached = try await connection.send(
            "Target.attachToTarget",
            ["targetId": .string(targetID), "flatten": true]
        )
        guard case .object(let fields) = attached, let session = fields["sessionId"]?.stringValue else {
            throw Failure(description: "Target.attachToTarget answered \(attached)")
        }
        let page = BrowserPage(connection: connection, session: session)
        try await page.send("Page.enable")
        try await page.send("Runtime.enable")
        try await page.send(
            "Emulation.setDeviceMetricsOverride",
            ["width": .int(width), "height": .int(height), "deviceScaleFactor": 1, "mobile": false]
        )
        return page
    }

    /// Sends a command to the tab.
    @discardableResult
    func send(_ method: String, _ params: [String: JSONValue] = [:]) async throws -> JSONValue {
        try await connection.send(method, params, session: session)
    }

    /// Loads `url` (the wait for what it shows is the caller's).
    func navigate(to url: String) async throws {
        let answer = try await send("Page.navigate", ["url": .string(url)])
        if case .object(let fields) = answer, let error = fields["errorText"]?.stringValue {
            throw Failure(description: "cannot load \(url): \(error)")
        }
    }

    /// Evaluates `expression` in the page (awaiting it if it is a promise) and returns its value as JSON.
    @discardableResult
    func evaluate(_ expression: String) async throws -> JSONValue {
        let answer = try await send(
            "Runtime.evaluate",
            ["expression": .string(expression), "awaitPromise": true, "returnByValue": true]
        )
        guard case .object(let fields) = answer else { throw Failure(description: "Runtime.evaluate: \(answer)") }
        if case .object(let exception)? = fields["exceptionDetails"] {
            let text =
                if case .object(let thrown)? = exception["exception"], let description = thrown["description"] {
                    description.description
                } else {
                    exception["text"]?.description ?? "\(exception)"
                }
            throw Failure(description: "\(expression): \(text)")
        }
        guard case .object(let result)? = fields["result"] else { return .null }
        return result["value"] ?? .null
    }

    /// Polls `expression` until it evaluates to `true`; throws after `timeout` with the last value or error.
    func waitUntil(
        _ what: String,
        _ expression: String,
        timeout: Duration = .seconds(20),
        interval: Duration = .milliseconds(100)
    ) async throws {
        _ = try await waitForValue(what, "(\(expression)) === true", timeout: timeout, interval: interval)
    }

    /// Polls `expression` until it evaluates to something other than `null`, `false` or `""`, and returns it.
    func waitForValue(
        _ what: String,
        _ expression: String,
        timeout: Duration = .seconds(20),
        interval: Duration = .milliseconds(100)
    ) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        var last = "nothing yet"
        while true {
            do {
                let value = try await evaluate(expression)
                switch value {
                case .null, .bool(false), .string(""): last = "\(value)"
                default: return value
                }
            } catch {
                // A page being replaced by the next one has no context to evaluate in for a moment.
                last = "\(error)"
            }
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: interval)
        }
        let errors = connection.consoleErrors
        throw Failure(
            description: "timed out after \(timeout) waiting for \(what) (last: \(last))"
                + (errors.isEmpty ? "" : "; page errors: \(errors.suffix(5))")
        )
    }

    /// A PNG of what the tab shows; with `fullPage`, of the whole page, however long.
    func screenshot(fullPage: Bool = false) async throws -> Data {
        var parameters: [String: JSONValue] = ["format": "png"]
        if fullPage {
            let size = try await evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight].join(',')"
            )
            let sides = (size.stringValue ?? "").split(separator: ",").compactMap { Double($0) }
            if sides.count == 2 {
                parameters["captureBeyondViewport"] = true
                parameters["clip"] = .object([
                    "x": 0, "y": 0, "width": .double(sides[0]), "height": .double(sides[1]), "scale": 1,
                ])
            }
        }
        let answer = try await send("Page.captureScreenshot", parameters)
        guard case .object(let fields) = answer, let text = fields["data"]?.stringValue,
            let data = Data(base64Encoded: text)
        else { throw Failure(description: "Page.captureScreenshot answered no image") }
        return data
    }

    /// Closes the connection to the browser.
    func close() async {
        await connection.close()
    }
}

extension Data {
    /// Whether the bytes start with the PNG signature and hold at least a header chunk.
    var isPNG: Bool {
        count > 24 && starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    /// The width and height a PNG's header declares.
    var pngSize: (width: Int, height: Int)? {
        guard isPNG else { return nil }
        func integer(at offset: Int) -> Int {
            self[startIndex + offset..<startIndex + offset + 4].reduce(0) { $0 << 8 | Int($1) }
        }
        return (integer(at: 16), integer(at: 20))
    }
}
