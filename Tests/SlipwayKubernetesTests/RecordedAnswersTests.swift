import Foundation
import SlipwayCore
import SlipwayTestSupport
import Synchronization
import Testing

@testable import SlipwayKubernetes

/// The client and the informer against answers recorded from a real kube-apiserver (``RecordedAPIServer``), for what
/// a real server will not do on demand: shed load with 429, cut a watch mid-stream, expire a version.
@Suite("Kubernetes client against recorded answers")
struct RecordedAnswersTests {
    static func client(_ server: RecordedAPIServer, attempts: Int = 5) throws -> KubernetesClient {
        try KubernetesClient(
            KubernetesCredentials(server: "http://127.0.0.1:\(server.port)", origin: "the recorded server"),
            timeout: .seconds(10),
            attempts: attempts
        )
    }

    static let pod: JSONValue = [
        "kind": "Pod", "apiVersion": "v1",
        "metadata": ["name": "shop-1", "namespace": "shop", "uid": "u-1", "resourceVersion": "7"],
    ]

    @Test func aServerSheddingLoadIsAskedAgainOnceItsRetryAfterHasPassed() async throws {
        // The real server sheds load with plain text, not a Status, and asks for a second.
        let recorded = try RecordedAPIServer.Recording.load("too-many-requests")
        #expect(recorded.response.status == 429 && recorded.response.headers["Retry-After"] == "1")
        #expect(recorded.response.headers["Content-Type"]?.hasPrefix("text/plain") == true)
        let server = try RecordedAPIServer([.recorded("too-many-requests"), .object(Self.pod)])
        defer { server.stop() }
        let client = try Self.client(server)
        let started = ContinuousClock.now
        let pod = try await client.get("/api/v1/namespaces/shop/pods/shop-1")
        await client.shutdown()
        #expect(pod.metadata?["name"] == "shop-1")
        #expect(ContinuousClock.now - started >= .seconds(1))
        #expect(server.requests == Array(repeating: "GET /api/v1/namespaces/shop/pods/shop-1", count: 2))
    }

    @Test func aServerThatGoesOnSheddingLoadGivesItsWordsAndItsRetryAfter() async throws {
        let server = try RecordedAPIServer([.recorded("too-many-requests-mutating"), .recorded("too-many-requests")])
        defer { server.stop() }
        let client = try Self.client(server, attempts: 2)
        do {
            _ = try await client.apply(Self.pod, at: "/api/v1/namespaces/shop/pods/shop-1")
            Issue.record("no error")
        } catch {
            #expect(error.code == 429 && error.retryAfter == 1, "\(error)")
            #expect(error.message.contains("Too many requests, please try again later."), "\(error)")
        }
        await client.shutdown()
        #expect(server.requests.count == 2)
    }

    @Test func statusAnswersAreReadAsTheRealServerWritesThem() async throws {
        let server = try RecordedAPIServer([
            .recorded("not-found"), .recorded("conflict-apply"), .recorded("unprocessable"), .recorded("list-expired"),
        ])
        defer { server.stop() }
        let client = try Self.client(server)
        let path = "/apis/apps/v1/namespaces/shop/deployments/shop-1"
        await #expect {
            _ = try await client.get(path)
        } throws: { ($0 as? KubernetesError)?.isNotFound == true && ($0 as? KubernetesError)?.reason == "NotFound" }
        await #expect {
            _ = try await client.apply(Self.pod, at: path, force: false)
        } throws: { error in
            guard let error = error as? KubernetesError else { return false }
            return error.isConflict && error.causes.contains("FieldManagerConflict")
        }
        await #expect {
            _ = try await client.apply(Self.pod, at: path)
        } throws: { error in
            guard let error = error as? KubernetesError else { return false }
            return error.code == 422 && error.reason == "Invalid" && error.causes.contains("FieldValueInvalid")
                && error.message.contains("selector")
        }
        await #expect {
            _ = try await client.list("/api/v1/namespaces/shop/pods?resourceVersion=3&resourceVersionMatch=Exact")
        } throws: { ($0 as? KubernetesError)?.isExpired == true }
        await client.shutdown()
    }

    @Test func aWatchCutMidStreamIsResumedFromTheLastVersionSeen() async throws {
        // As recorded: one ConfigMap added at version 272, then the connection cut without a last chunk.
        let server = try RecordedAPIServer([
            .object(["kind": "ConfigMapList", "metadata": ["resourceVersion": "270"], "items": []]),
            .recorded("watch-cut"),
            .watch([]),
        ])
        defer { server.stop() }
        let client = try Self.client(server)
        let events = Events(KubernetesInformer(client: client, path: "/api/v1/namespaces/kube-record/configmaps"))
        try await waitUntil("the ConfigMap added and the watch resumed", timeout: .seconds(10)) {
            events.names == ["listed 0", "added before-restart"]
                && server.requests.contains { $0.contains("watch=1") && $0.contains("resourceVersion=272") }
        }
        events.stop()
        await client.shutdown()
        // Resumed, not listed again: nothing was lost, so nothing is reported twice.
        #expect(server.requests.filter { !$0.contains("watch=1") }.count == 1, "\(server.requests)")
    }

    @Test func aWatchFromAnExpiredVersionListsAgainAndReportsWhatChanged() async throws {
        let kept: JSONValue = [
            "kind": "ConfigMap", "metadata": ["name": "kept", "uid": "u-kept", "resourceVersion": "280"],
        ]
        let server = try RecordedAPIServer([
            .object(["kind": "ConfigMapList", "metadata": ["resourceVersion": "100"], "items": []]),
            .recorded("watch-expired"),
            .object(["kind": "ConfigMapList", "metadata": ["resourceVersion": "300"], "items": [kept]]),
            .watch([]),
        ])
        defer { server.stop() }
        let client = try Self.client(server)
        let events = Events(KubernetesInformer(client: client, path: "/api/v1/namespaces/kube-record/configmaps"))
        try await waitUntil("the new list's ConfigMap reported", timeout: .seconds(10)) {
            events.names == ["listed 0", "added kept"]
        }
        events.stop()
        await client.shutdown()
        #expect(Array(server.requests.prefix(3).map { $0.contains("watch=1") }) == [false, true, false])
    }
}

/// What an informer reports, as it comes.
private final class Events: Sendable {
    private final class Seen: Sendable {
        let names = Mutex<[String]>([])
    }

    private let seen = Seen()
    private let reader: Task<Void, Never>

    init(_ informer: KubernetesInformer) {
        let seen = self.seen
        reader = Task {
            for await event in informer.events() {
                let name: String
                switch event {
                case .listed(let items): name = "listed \(items.count)"
                case .added(let object): name = "added \(object.metadata?["name"]?.stringValue ?? "?")"
                case .modified(let object): name = "modified \(object.metadata?["name"]?.stringValue ?? "?")"
                case .deleted(let object): name = "deleted \(object.metadata?["name"]?.stringValue ?? "?")"
                }
                seen.names.withLock { $0.append(name) }
            }
        }
    }

    var names: [String] { seen.names.withLock { $0 } }

    func stop() { reader.cancel() }
}
