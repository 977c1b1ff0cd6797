import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SlipwayConfig
import SlipwayCore

/// A notice that a channel did not get.
public struct DeliveryFailure: Sendable, Equatable {
    /// Why it was not delivered.
    public enum Cause: String, Sendable, Equatable {
        /// Every attempt failed with a timeout, a connection error, a 5xx, 408 or 429 answer.
        case retriesExhausted
        /// The receiver refused it for good (a 4xx answer other than 408 and 429, or an unusable request).
        case refused
        /// The channel's queue was full when it was posted: it was dropped without an attempt.
        case queueFull
        /// The dispatcher shut down before it could be delivered.
        case shutDown
    }

    /// The channel's name.
    public var channel: String
    /// The kind of the notice that was not delivered.
    public var kind: EventKind
    /// The app of the notice.
    public var app: String
    /// How many attempts were made (0 when it was dropped or never tried).
    public var attempts: Int
    /// What went wrong last, with every channel URL redacted: `HTTP 503: busy`, `timed out after 5s`, ….
    public var error: String
    /// Why it was not delivered.
    public var cause: Cause

    /// Creates a failure report.
    public init(channel: String, kind: EventKind, app: String, attempts: Int, error: String, cause: Cause) {
        self.channel = channel
        self.kind = kind
        self.app = app
        self.attempts = attempts
        self.error = error
        self.cause = cause
    }
}

/// A notice a channel's receiver accepted.
public struct DeliveryReport: Sendable, Equatable {
    /// The channel's name.
    public var channel: String
    /// The kind of the notice.
    public var kind: EventKind
    /// The app of the notice.
    public var app: String
    /// How many attempts it took (1 when the first one succeeded).
    public var attempts: Int
    /// The 2xx status the receiver answered.
    public var status: Int

    /// Creates a delivery report.
    public init(channel: String, kind: EventKind, app: String, attempts: Int, status: Int) {
        self.channel = channel
        self.kind = kind
        self.app = app
        self.attempts = attempts
        self.status = status
    }
}

/// Sends notices to Slack and webhook channels, in the background.
///
/// ``post(_:)`` never waits: it picks the channels whose event kinds and minimum severity let the notice through
/// and appends it to each one's queue. Each channel has one worker that delivers its queue in order: a POST of the
/// channel's message (``SlackMessage`` or ``WebhookPayload``) with `Content-Type: application/json`, within the
/// channel's timeout. A 2xx answer delivers it. A timeout, a connection error, or a 5xx, 408 or 429 answer is
/// retried, up to the channel's `retries`, after a delay that starts at `backoff.initial` and doubles up to
/// `backoff.maximum` (a longer `Retry-After` of a 429 or 503 is honoured up to the maximum). Any other answer is a
/// refusal and is not retried.
///
/// A notice that exhausts its attempts, is refused, is dropped because its channel's queue is full, or is still
/// waiting when ``shutdown(within:)`` gives up, is reported to `onFailure`; delivered ones to `onDelivered`. The two
/// callbacks are called one at a time, in the order the outcomes happened, from a task of the dispatcher. Error
/// texts never contain a channel's URL, its path or its query: they are redacted to `https://host/…`.
public actor NotificationDispatcher {
    /// One channel with its queue.
    private struct Lane: Sendable {
        let channel: ResolvedChannel
        let queue: NoticeQueue
    }

    /// At most this many outcomes wait for the callbacks; outcomes beyond are not reported.
    public static let pendingReportLimit = 10_000

    private let lanes: [Lane]
    private let reports: AsyncStream<DeliveryOutcome>.Continuation
    private var workers: [Task<Void, Never>]
    private var reporter: Task<Void, Never>?
    private var isShutDown = false

    /// Starts one worker per channel.
    ///
    /// - Parameters:
    ///   - channels: Where notices go; each channel's spec says which notices, and how patiently.
    ///   - httpClient: The client that posts. The caller owns it and shuts it down after ``shutdown(within:)``.
    ///   - backoff: The delay before the first retry, doubling for each further one up to the maximum.
    ///   - queueLimit: The most notices waiting per channel; more are dropped and reported.
    ///   - onFailure: Told of every notice a channel did not get.
    ///   - onDelivered: Told of every notice a channel got.
    public init(
        channels: [ResolvedChannel],
        httpClient: HTTPClient,
        backoff: (initial: Duration, maximum: Duration) = (.seconds(1), .seconds(30)),
        queueLimit: Int = 200,
        onFailure: @escaping @Sendable (DeliveryFailure) async -> Void,
        onDelivered: (@Sendable (DeliveryReport) async -> Void)? = nil
    ) {
        let (stream, reports) = AsyncStream.makeStream(
            of: DeliveryOutcome.self,
            bufferingPolicy: .bufferingOldest(Self.pendingReportLimit)
        )
        let lanes = channels.map { Lane(channel: $0, queue: NoticeQueue(limit: queueLimit)) }
        let courier = Courier(
            httpClient: httpClient,
            initialBackoff: max(backoff.initial, .zero),
            maximumBackoff: max(backoff.maximum, backoff.initial, .zero),
            secretURLs: channels.map(\.url.value),
            reports: reports
        )
        self.lanes = lanes
        self.reports = reports
        self.workers = lanes.map { lane in
            Task { await courier.work(lane.channel, lane.queue) }
        }
        self.reporter = Task {
            for await outcome in stream {
                switch outcome {
                case .failed(let failure): await onFailure(failure)
                case .delivered(let report): await onDelivered?(report)
                }
            }
        }
    }

    deinit {
        // Nobody shut the dispatcher down: the workers deliver what is queued and end, then the reporter ends.
        for lane in lanes {
            lane.queue.close()
        }
        let workers = self.workers
        let reports = self.reports
        Task {
            for worker in workers {
                await worker.value
            }
            reports.finish()
        }
    }

    /// Queues `notice` for every channel that takes its kind and severity, and returns at once.
    ///
    /// A channel whose queue is full drops it and reports a ``DeliveryFailure`` with cause `queueFull`. Notices
    /// posted once ``shutdown(within:)`` has begun are ignored, and so are `notificationFailed` notices.
    public nonisolated func post(_ notice: Notice) {
        for lane in lanes where lane.channel.spec.accepts(notice.kind, severity: notice.severity) {
            guard lane.queue.offer(notice) == .full else { continue }
            let failure = DeliveryFailure(
                channel: lane.channel.name,
                kind: notice.kind,
                app: notice.app,
                attempts: 0,
                error: "dropped: the channel's queue is full (\(lane.queue.limit) notices waiting)",
                cause: .queueFull
            )
            reports.yield(.failed(failure))
        }
    }

    /// How many notices wait in each channel's queue, by channel name (the ones being delivered are not counted).
    public nonisolated var queuedCounts: [String: Int] {
        Dictionary(lanes.map { ($0.channel.name, $0.queue.count) }, uniquingKeysWith: +)
    }

    /// Stops taking notices, lets the queues drain for at most `limit`, then cancels the workers: the notice being
    /// delivered and those still queued are reported as failures with cause `shutDown`. Returns once every outcome
    /// has been passed to the callbacks. Calling it again does nothing.
    public func shutdown(within limit: Duration) async {
        guard !isShutDown else { return }
        isShutDown = true
        for lane in lanes {
            lane.queue.close()
        }
        let workers = self.workers
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for worker in workers {
                    await worker.value
                }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let drained = await group.next() ?? false
            if !drained {
                for worker in workers {
                    worker.cancel()
                }
            }
            group.cancelAll()
        }
        self.workers = []
        reports.finish()
        await reporter?.value
        reporter = nil
    }
}

/// What became of a notice on one channel.
enum DeliveryOutcome: Sendable {
    case delivered(DeliveryReport)
    case failed(DeliveryFailure)
}

/// What became of one attempt.
enum AttemptOutcome: Sendable, Equatable {
    /// The receiver answered this 2xx status.
    case delivered(Int)
    /// Worth retrying: a timeout, a connection error, a 5xx, 408 or 429; with the answer's `Retry-After`.
    case failed(String, retryAfter: Duration?)
    /// Not worth retrying.
    case refused(String)
    /// The worker was cancelled during the attempt.
    case cancelled
}

/// Delivers the notices of channels' queues: the work of the dispatcher's workers.
struct Courier: Sendable {
    /// How much of an answer's body is read for error messages.
    static let answerBytes = 4096
    /// How much of it is shown.
    static let answerCharacters = 200
    /// How much of a client error's description is shown.
    static let errorCharacters = 300

    let httpClient: HTTPClient
    let initialBackoff: Duration
    let maximumBackoff: Duration
    let secretURLs: [String]
    let reports: AsyncStream<DeliveryOutcome>.Continuation

    /// Delivers `queue`'s notices in order until it is closed and empty; once cancelled, reports the rest as not
    /// delivered without trying.
    func work(_ channel: ResolvedChannel, _ queue: NoticeQueue) async {
        while let notice = await queue.next() {
            await deliver(notice, to: channel)
        }
    }

    /// Tries to deliver `notice` up to `retries + 1` times and reports the outcome.
    func deliver(_ notice: Notice, to channel: ResolvedChannel) async {
        let spec = channel.spec
        let body = spec.kind == .slack ? SlackMessage.body(for: notice) : WebhookPayload.body(for: notice)
        let allowed = spec.retries + 1
        var lastError = ""
        for attempt in 1...allowed {
            if Task.isCancelled {
                let error =
                    attempt == 1
                    ? "not sent: the dispatcher shut down first" : "\(lastError); not retried: the dispatcher shut down"
                fail(notice, channel, attempts: attempt - 1, error: error, cause: .shutDown)
                return
            }
            switch await sendOnce(body, to: channel) {
            case .delivered(let status):
                let report = DeliveryReport(
                    channel: channel.name,
                    kind: notice.kind,
                    app: notice.app,
                    attempts: attempt,
                    status: status
                )
                reports.yield(.delivered(report))
                return
            case .refused(let error):
                fail(notice, channel, attempts: attempt, error: error, cause: .refused)
                return
            case .cancelled:
                fail(
                    notice,
                    channel,
                    attempts: attempt,
                    error: "interrupted: the dispatcher shut down",
                    cause: .shutDown
                )
                return
            case .failed(let error, let retryAfter):
                lastError = error
                if attempt < allowed {
                    // A cancelled sleep ends early; the check at the top of the loop reports it.
                    try? await Task.sleep(for: delay(afterAttempt: attempt, retryAfter: retryAfter))
                }
            }
        }
        fail(notice, channel, attempts: allowed, error: lastError, cause: .retriesExhausted)
    }

    /// The wait after failed attempt number `attempt` (from 1): the initial backoff doubled `attempt - 1` times,
    /// at most the maximum, or a longer `Retry-After` (also at most the maximum).
    func delay(afterAttempt attempt: Int, retryAfter: Duration?) -> Duration {
        var delay = initialBackoff
        for _ in 1..<max(attempt, 1) where delay < maximumBackoff {
            delay = delay * 2
        }
        delay = min(delay, maximumBackoff)
        if let retryAfter {
            delay = max(delay, min(retryAfter, maximumBackoff))
        }
        return delay
    }

    /// One POST of `body` to the channel, within its timeout.
    func sendOnce(_ body: [UInt8], to channel: ResolvedChannel) async -> AttemptOutcome {
        var request = HTTPClientRequest(url: channel.url.value)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Slipway")
        request.body = .bytes(ByteBuffer(bytes: body))
        let timeout = channel.spec.timeout
        let end = ContinuousClock.now + timeout
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, deadline: .now() + Self.timeAmount(timeout))
        } catch {
            return classify(error, timeout: timeout)
        }
        let status = Int(response.status.code)
        // The client's deadline covers the answer's head only: its body is read within what is left.
        let answer = await Self.withTimeLimit(until: end) {
            await Self.answerStart(of: response.body)
        }
        if Task.isCancelled && !(200..<300).contains(status) {
            return .cancelled
        }
        let shown = answer.map(answerText) ?? ""
        let text = "HTTP \(status)" + (shown.isEmpty ? "" : ": " + shown)
        switch status {
        case 200..<300:
            return .delivered(status)
        case 408, 429, 500..<600:
            return .failed(text, retryAfter: Self.retryAfter(response.headers))
        default:
            return .refused(text)
        }
    }

    /// The outcome of an attempt that threw `error`.
    func classify(_ error: any Error, timeout: Duration) -> AttemptOutcome {
        if error is CancellationError {
            return .cancelled
        }
        guard let error = error as? HTTPClientError else {
            return .failed(
                Self.shortened(scrub("could not connect or send: \(error)")),
                retryAfter: nil
            )
        }
        if error == .cancelled && Task.isCancelled {
            return .cancelled
        }
        let timeouts: [HTTPClientError] = [
            .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .getConnectionFromPoolTimeout,
            .tlsHandshakeTimeout, .socksHandshakeTimeout, .httpProxyHandshakeTimeout,
        ]
        if timeouts.contains(error) {
            return .failed("timed out after \(DurationText.format(timeout))", retryAfter: nil)
        }
        let unusable: [HTTPClientError] = [
            .invalidURL, .emptyHost, .emptyScheme, .unsupportedScheme(""), .alreadyShutdown, .redirectLimitReached,
            .redirectCycleDetected, .traceRequestWithBody,
        ]
        // `unsupportedScheme` carries the scheme; compare short descriptions, which leave associated values out.
        if unusable.contains(where: { $0.shortDescription == error.shortDescription }) {
            return .refused(scrub("request not sent: \(error.shortDescription)"))
        }
        return .failed(Self.shortened(scrub("request failed: \(error.shortDescription)")), retryAfter: nil)
    }

    /// `text` with every channel URL redacted.
    func scrub(_ text: String) -> String {
        Redaction.scrub(text, secretURLs: secretURLs)
    }

    private func fail(
        _ notice: Notice,
        _ channel: ResolvedChannel,
        attempts: Int,
        error: String,
        cause: DeliveryFailure.Cause
    ) {
        let failure = DeliveryFailure(
            channel: channel.name,
            kind: notice.kind,
            app: notice.app,
            attempts: attempts,
            error: scrub(error),
            cause: cause
        )
        reports.yield(.failed(failure))
    }

    /// The start of an answer for an error message: redacted, on one line, shortened. When the body was cut, its
    /// last characters are dropped first, as they may hold the start of a secret URL that redaction cannot
    /// recognise.
    func answerText(_ start: (text: String, cut: Bool)) -> String {
        let longestSecret = secretURLs.map(\.count).max() ?? 0
        let whole = start.cut ? String(start.text.dropLast(longestSecret)) : start.text
        let line = scrub(whole).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: " ")
        return Self.shortened(line, to: Self.answerCharacters)
    }

    /// The first ``answerBytes`` of an answer's body, and whether there was more; the rest is read and discarded.
    static func answerStart(of body: HTTPClientResponse.Body) async -> (text: String, cut: Bool) {
        var kept: [UInt8] = []
        var cut = false
        do {
            for try await var chunk in body {
                let wanted = min(chunk.readableBytes, answerBytes - kept.count)
                cut = cut || wanted < chunk.readableBytes
                if wanted > 0, let bytes = chunk.readBytes(length: wanted) {
                    kept += bytes
                }
            }
        } catch {
            // What was read so far is enough for a message.
        }
        return (String(decoding: kept, as: UTF8.self), cut)
    }

    /// The seconds of a `Retry-After` header; dates are not read.
    static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        guard let text = headers.first(name: "Retry-After"),
            let seconds = Int(text.trimmingCharacters(in: .whitespaces)),
            seconds >= 0
        else { return nil }
        return .seconds(seconds)
    }

    /// `text` cut to `limit` characters, ending with `…` when cut.
    static func shortened(_ text: String, to limit: Int = errorCharacters) -> String {
        text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }

    /// `duration` in NIO's terms.
    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.nanoseconds)
    }

    /// The result of `operation`, or nil when it has not ended at `end` (it is then cancelled).
    static func withTimeLimit<Value: Sendable>(
        until end: ContinuousClock.Instant,
        _ operation: @escaping @Sendable () async -> Value
    ) async -> Value? {
        await withTaskGroup(of: Value?.self) { group in
            group.addTask { await operation() }
            group.addTask {
                try? await Task.sleep(until: end, clock: .continuous)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
