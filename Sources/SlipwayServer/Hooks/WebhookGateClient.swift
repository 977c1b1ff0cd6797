import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SlipwayConfig

/// Asks a webhook gate whether a rollout may go on: POSTs the rollout's facts until an answer is 2xx, re-asking
/// every `interval`, and gives up once `deadline` has passed since the first question.
struct WebhookGateClient: Sendable {
    /// How the questions ended.
    struct Result: Sendable, Equatable {
        /// Whether the gate said go.
        var opened: Bool
        /// How many questions were sent.
        var attempts: Int
        /// The last answer's status, if there was an answer.
        var lastStatus: Int?
        /// Why the last question was not a go, in a few words (never the URL).
        var lastProblem: String?
        /// How long the asking took.
        var duration: Duration
    }

    let client: HTTPClient

    /// Asks until go or the deadline. `waiting` is told once, after the first answer that is not a go.
    func ask(
        _ gate: WebhookGate,
        url: String,
        body: @Sendable (Int) -> [UInt8],
        waiting: @Sendable (_ problem: String) -> Void
    ) async -> Result {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + gate.deadline
        var attempts = 0
        var lastStatus: Int?
        var lastProblem: String?
        while !Task.isCancelled {
            attempts += 1
            let remaining = deadline - clock.now
            let timeout = min(gate.timeout, max(remaining, .milliseconds(1)))
            switch await post(url: url, body: body(attempts), timeout: timeout) {
            case .success(let status) where (200..<300).contains(status):
                return Result(
                    opened: true,
                    attempts: attempts,
                    lastStatus: status,
                    lastProblem: nil,
                    duration: clock.now - started
                )
            case .success(let status):
                lastStatus = status
                lastProblem = "answered \(status)"
            case .failure(let problem):
                lastStatus = nil
                lastProblem = problem.text
            }
            if attempts == 1 { waiting(lastProblem ?? "no answer") }
            let next = clock.now + gate.interval
            guard next < deadline else { break }
            do {
                try await Task.sleep(until: next, clock: clock)
            } catch {
                break
            }
        }
        return Result(
            opened: false,
            attempts: attempts,
            lastStatus: lastStatus,
            lastProblem: lastProblem,
            duration: clock.now - started
        )
    }

    /// One question: the answer's status, or why there was none (an error text that never holds the URL).
    private func post(url: String, body: [UInt8], timeout: Duration) async -> Swift.Result<Int, GateProblem> {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "slipway")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.nanoseconds)))
            // The answer's body is not used; reading a bounded part of it lets the connection be reused.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return .success(Int(response.status.code))
        } catch let error as HTTPClientError {
            return .failure(GateProblem(Self.describe(error)))
        } catch is NIOConnectionError {
            return .failure(GateProblem("could not connect"))
        } catch is IOError {
            return .failure(GateProblem("could not connect"))
        } catch {
            return .failure(GateProblem("the request failed"))
        }
    }

    /// A few words for an HTTP client error; its description may hold the URL, so it is never used as is.
    static func describe(_ error: HTTPClientError) -> String {
        switch error {
        case .connectTimeout: return "connection timed out"
        case .deadlineExceeded, .readTimeout, .writeTimeout: return "no answer within the timeout"
        case .remoteConnectionClosed: return "the connection was closed"
        case .invalidURL, .emptyHost, .emptyScheme: return "the URL is not usable"
        default: return "the request failed"
        }
    }
}

/// Why a question got no answer.
struct GateProblem: Error, Equatable {
    var text: String
    init(_ text: String) { self.text = text }
}
