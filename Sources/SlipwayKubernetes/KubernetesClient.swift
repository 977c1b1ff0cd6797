import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import SlipwayCore

/// Talks to a Kubernetes API server: reads, server-side apply under Slipway's field manager, deletes, lists and
/// watches. Paths are the API's own (`/apis/apps/v1/namespaces/shop/deployments/shop-2-0-0`); bodies are JSON.
public final class KubernetesClient: Sendable {
    /// The field manager of everything Slipway applies.
    public static let fieldManager = "slipway"

    /// Where and who.
    public let credentials: KubernetesCredentials
    private let http: HTTPClient
    /// How long a call other than a watch may take.
    public let timeout: Duration
    /// How many times a call is sent at most while the server answers 429 (Too Many Requests).
    public let attempts: Int

    /// A client; fails when the credentials' certificates cannot be read.
    public init(
        _ credentials: KubernetesCredentials,
        timeout: Duration = .seconds(30),
        attempts: Int = 5
    ) throws(KubernetesError) {
        self.credentials = credentials
        self.timeout = timeout
        self.attempts = max(1, attempts)
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let authority = credentials.certificateAuthority {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(authority.utf8)))
            }
            if let certificate = credentials.clientCertificate, let key = credentials.clientKey {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificate.utf8)).map {
                    .certificate($0)
                }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem))
            }
        } catch {
            throw KubernetesError(
                code: 0,
                message: "the certificates of \(credentials.origin) cannot be read: \(error)",
                call: "connect"
            )
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.redirectConfiguration = .disallow
        configuration.timeout.connect = .seconds(5)
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Closes the connections.
    public func shutdown() async {
        try? await http.shutdown()
    }

    private func request(
        _ method: HTTPMethod,
        _ path: String,
        body: Data? = nil,
        contentType: String = "application/json"
    ) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: credentials.server + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json, */*")
        if let token = credentials.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    /// Sends a call and reads its whole answer: the object, or the server's error.
    private func call(
        _ method: HTTPMethod,
        _ path: String,
        body: JSONValue? = nil,
        contentType: String = "application/json"
    ) async throws(KubernetesError) -> JSONValue {
        let name = "\(method.rawValue) \(path)"
        let data = try body.map { value throws(KubernetesError) -> Data in
            do {
                // An apply body is read as YAML, which has no `\/` escape.
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.withoutEscapingSlashes]
                return try encoder.encode(value)
            } catch {
                throw KubernetesError(code: 0, message: "cannot encode the body: \(error)", call: name)
            }
        }
        var attempt = 1
        while true {
            let response: HTTPClientResponse
            let bytes: ByteBuffer
            do {
                let timeout = TimeAmount.milliseconds(Int64(self.timeout.milliseconds))
                response = try await http.execute(
                    request(method, path, body: data, contentType: contentType),
                    timeout: timeout
                )
                bytes = try await response.body.collect(upTo: 64 * 1024 * 1024)
            } catch {
                throw KubernetesError(code: 0, message: "\(error)", call: name)
            }
            guard (200..<300).contains(Int(response.status.code)) else {
                let error = Self.failure(response, bytes, call: name)
                // A server that sheds load (429) did nothing with the call: it is sent again once the server's
                // Retry-After has passed, a few times.
                if error.code == 429, attempt < attempts {
                    attempt += 1
                    let wait = min(max(error.retryAfter ?? 1, 1), 10)
                    try? await Task.sleep(for: .seconds(wait))
                    continue
                }
                throw error
            }
            return (try? JSONDecoder().decode(JSONValue.self, from: Data(bytes.readableBytesView))) ?? .null
        }
    }

    /// The error an answer that is not a success describes: its `Status` body (or its text, as a server that sheds
    /// load sends), its code, its `Retry-After`.
    private static func failure(_ response: HTTPClientResponse, _ body: ByteBuffer, call: String) -> KubernetesError {
        let retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0) }
        let code = Int(response.status.code)
        if let status = try? JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView)) {
            return KubernetesError(status: status, code: code, retryAfter: retryAfter, call: call)
        }
        let text = String(decoding: body.readableBytesView.prefix(300), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return KubernetesError(
            code: code,
            message: text.isEmpty ? "HTTP \(code)" : "HTTP \(code): \(text)",
            retryAfter: retryAfter,
            call: call
        )
    }

    /// The object at `path`.
    public func get(_ path: String) async throws(KubernetesError) -> JSONValue {
        try await call(.GET, path)
    }

    /// Applies `object` at `path` (the object's own path, with its name) by server-side apply, as Slipway's field
    /// manager; `force` takes over fields another manager owns. The object as stored.
    public func apply(
        _ object: JSONValue,
        at path: String,
        force: Bool = true
    ) async throws(KubernetesError)
        -> JSONValue
    {
        let query = "?fieldManager=\(Self.fieldManager)" + (force ? "&force=true" : "")
        return try await call(.PATCH, path + query, body: object, contentType: "application/apply-patch+yaml")
    }

    /// Merges `patch` into the object at `path` (a JSON merge patch), or into its status with `path` ending in
    /// `/status`.
    public func mergePatch(_ patch: JSONValue, at path: String) async throws(KubernetesError) -> JSONValue {
        try await call(.PATCH, path, body: patch, contentType: "application/merge-patch+json")
    }

    /// Merges `patch` into the object at `path` by a strategic merge patch, which merges lists by their keys (a
    /// pod's `status.conditions` by `type`): for built-in kinds only.
    public func strategicMergePatch(_ patch: JSONValue, at path: String) async throws(KubernetesError) -> JSONValue {
        try await call(.PATCH, path, body: patch, contentType: "application/strategic-merge-patch+json")
    }

    /// The text at `path` (a pod's log), as it comes.
    public func text(_ path: String) async throws(KubernetesError) -> String {
        let name = "GET \(path)"
        do {
            let response = try await http.execute(
                request(.GET, path),
                timeout: TimeAmount.milliseconds(Int64(timeout.milliseconds))
            )
            let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
            guard (200..<300).contains(Int(response.status.code)) else {
                throw Self.failure(response, bytes, call: name)
            }
            return String(decoding: bytes.readableBytesView, as: UTF8.self)
        } catch let error as KubernetesError {
            throw error
        } catch {
            throw KubernetesError(code: 0, message: "\(error)", call: name)
        }
    }

    /// Replaces the object at `path` with `object` (a 409 when `object`'s `metadata.resourceVersion` is not the
    /// stored one).
    public func replace(_ object: JSONValue, at path: String) async throws(KubernetesError) -> JSONValue {
        try await call(.PUT, path, body: object)
    }

    /// Creates `object` in the collection at `path`.
    public func create(_ object: JSONValue, in path: String) async throws(KubernetesError) -> JSONValue {
        try await call(.POST, path, body: object)
    }

    /// Deletes the object at `path`, its dependents in the background; nothing when it is already gone.
    public func delete(_ path: String, gracePeriodSeconds: Int? = nil, uid: String? = nil) async throws(KubernetesError)
    {
        var options: [String: JSONValue] = [
            "kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background",
        ]
        if let gracePeriodSeconds { options["gracePeriodSeconds"] = .int(gracePeriodSeconds) }
        if let uid { options["preconditions"] = .object(["uid": .string(uid)]) }
        do {
            _ = try await call(.DELETE, path, body: .object(options))
        } catch  where error.isNotFound {
            return
        }
    }

    /// The objects of the collection at `path` (`?labelSelector=…` allowed), and the resource version to watch
    /// from.
    public func list(_ path: String) async throws(KubernetesError) -> (items: [JSONValue], resourceVersion: String) {
        let list = try await call(.GET, path)
        guard case .array(let items) = list["items"] ?? .array([]) else {
            throw KubernetesError(code: 200, message: "the answer is not a list", call: "GET \(path)")
        }
        return (items, list.metadata?["resourceVersion"]?.stringValue ?? "")
    }

    /// The versions of API group `group` the server serves, its preferred one first (`v1`, `v1beta1`);
    /// empty when it serves none.
    public func versions(ofGroup group: String) async throws(KubernetesError) -> [String] {
        let found: JSONValue
        do {
            found = try await call(.GET, "/apis/\(group)")
        } catch  where error.isNotFound {
            return []
        }
        var versions: [String] = []
        if let preferred = found["preferredVersion"]?["version"]?.stringValue { versions.append(preferred) }
        if case .array(let all) = found["versions"] ?? .null {
            for entry in all {
                if let version = entry["version"]?.stringValue, !versions.contains(version) { versions.append(version) }
            }
        }
        return versions
    }

    /// Watches the collection at `path` from `resourceVersion`, with bookmarks, for at most `timeout` (the server
    /// ends the watch then). The stream ends when the server does; it throws the server's error (a 410 when the
    /// version is too old: list again) or a broken connection.
    public func watch(
        _ path: String,
        from resourceVersion: String,
        timeout: Duration = .seconds(300)
    ) -> AsyncThrowingStream<WatchEvent, any Error> {
        let separator = path.contains("?") ? "&" : "?"
        let seconds = max(1, Int(timeout.milliseconds / 1000))
        let full =
            path + separator
            + "watch=1&allowWatchBookmarks=true&timeoutSeconds=\(seconds)&resourceVersion=\(resourceVersion)"
        let name = "GET \(full)"
        let request = self.request(.GET, full)
        let http = self.http
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let response = try await http.execute(request, timeout: .seconds(Int64(seconds) + 30))
                    guard response.status == .ok else {
                        throw Self.failure(response, try await response.body.collect(upTo: 1024 * 1024), call: name)
                    }
                    var lines = WatchLines()
                    for try await chunk in response.body {
                        for line in try lines.feed(chunk.readableBytesView) {
                            continuation.yield(try WatchLines.decode(line, call: name))
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
