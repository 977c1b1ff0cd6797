import AsyncHTTPClient
import NIOCore
import SlipwayCore

/// The call `GET /` makes to the service's dependency (``DemoOptions/dependency``), bounded by
/// ``DemoOptions/dependencyTimeout`` when one is set: a service that keeps its timeout answers with a fallback when
/// the dependency is slow; one that has lost it waits as long as the dependency takes.
struct DependencyCall: Sendable {
    /// What the call came to.
    enum Outcome: Sendable, Equatable {
        /// The dependency answered with this status.
        case answered(Int)
        /// It took longer than the timeout: the answer goes out without it.
        case fellBack
        /// It could not be reached, or it failed without answering.
        case failed(String)
    }

    /// The longest any call waits, timeout or not.
    static let longest = Duration.seconds(60)

    let url: String
    let timeout: Duration?

    func perform() async -> Outcome {
        let limit = min(timeout ?? Self.longest, Self.longest)
        do {
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: url),
                timeout: .nanoseconds(limit.nanoseconds)
            )
            _ = try await response.body.collect(upTo: 1 << 20)
            return .answered(Int(response.status.code))
        } catch let error as HTTPClientError where error == .deadlineExceeded && timeout != nil {
            return .fellBack
        } catch {
            return .failed(String(describing: error))
        }
    }
}
