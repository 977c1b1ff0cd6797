import SlipwayCore

/// A change to a collection, as a ``KubernetesInformer`` reports it.
public enum InformerEvent: Sendable, Equatable {
    /// The collection as listed, before any change: every object in it (sent once, first).
    case listed([JSONValue])
    /// An object appeared.
    case added(JSONValue)
    /// An object changed.
    case modified(JSONValue)
    /// An object went (as it was last seen).
    case deleted(JSONValue)
}

/// Follows a collection (`/api/v1/namespaces/shop/pods?labelSelector=…`) without missing a change: it lists, then
/// watches from the list's version. A watch that ends (its timeout, a broken connection, a server that went away) is
/// resumed from the last version seen, bookmarks included; one the server answers with 410 (the version is older
/// than it keeps, as after its restart) lists again, and what the new list shows against what was known (objects
/// gone, new, changed) is reported as the events that were missed. Objects are told apart by `metadata.uid`, so one
/// deleted and made again under its name is a deletion and an addition.
public struct KubernetesInformer: Sendable {
    /// The client.
    public let client: KubernetesClient
    /// The collection's path, with its query if any.
    public let path: String
    /// How long one watch may last before the server ends it (and it is resumed).
    public let watchTimeout: Duration
    /// The longest pause between attempts while the server cannot be reached.
    public let maximumPause: Duration

    /// An informer of the collection at `path`.
    public init(
        client: KubernetesClient,
        path: String,
        watchTimeout: Duration = .seconds(300),
        maximumPause: Duration = .seconds(5)
    ) {
        self.client = client
        self.path = path
        self.watchTimeout = watchTimeout
        self.maximumPause = maximumPause
    }

    /// The changes, from the first list on, until the stream is dropped or its task cancelled. It never ends by
    /// itself: a server that cannot be reached is tried again, with pauses growing to ``maximumPause``.
    public func events() -> AsyncStream<InformerEvent> {
        AsyncStream { continuation in
            let task = Task { await follow(continuation) }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func follow(_ continuation: AsyncStream<InformerEvent>.Continuation) async {
        var known: [String: JSONValue] = [:]
        var listedOnce = false
        var failures = 0
        while !Task.isCancelled {
            // List, and report what differs from what was known.
            let listed: (items: [JSONValue], resourceVersion: String)
            do {
                listed = try await client.list(path)
            } catch {
                failures += 1
                await pause(after: failures)
                continue
            }
            failures = 0
            var now: [String: JSONValue] = [:]
            for item in listed.items { now[Self.key(item)] = item }
            if !listedOnce {
                continuation.yield(.listed(listed.items))
                listedOnce = true
            } else {
                for (key, old) in known.sorted(by: { $0.key < $1.key }) where now[key] == nil {
                    continuation.yield(.deleted(old))
                }
                for item in listed.items {
                    let key = Self.key(item)
                    if let old = known[key] {
                        if Self.version(old) != Self.version(item) { continuation.yield(.modified(item)) }
                    } else {
                        continuation.yield(.added(item))
                    }
                }
            }
            known = now
            // Watch, resuming from the last version seen, until the server says that version is gone.
            var version = listed.resourceVersion
            watching: while !Task.isCancelled {
                do {
                    for try await event in client.watch(path, from: version, timeout: watchTimeout) {
                        if let seen = event.resourceVersion { version = seen }
                        let key = Self.key(event.object)
                        switch event.kind {
                        case .bookmark:
                            continue
                        case .added, .modified:
                            let before = known[key]
                            known[key] = event.object
                            continuation.yield(before == nil ? .added(event.object) : .modified(event.object))
                        case .deleted:
                            known[key] = nil
                            continuation.yield(.deleted(event.object))
                        }
                    }
                    failures = 0
                } catch let error as KubernetesError where error.isExpired {
                    break watching
                } catch {
                    failures += 1
                    await pause(after: failures)
                }
            }
        }
        continuation.finish()
    }

    /// 200 ms after the first failure, doubling, at most ``maximumPause``.
    private func pause(after failures: Int) async {
        let milliseconds = min(Int(maximumPause.milliseconds), 200 << min(failures - 1, 10))
        try? await Task.sleep(for: .milliseconds(milliseconds))
    }

    static func key(_ object: JSONValue) -> String {
        let metadata = object.metadata
        return metadata?["uid"]?.stringValue
            ?? "\(metadata?["namespace"]?.stringValue ?? "")/\(metadata?["name"]?.stringValue ?? "")"
    }

    static func version(_ object: JSONValue) -> String? {
        object.metadata?["resourceVersion"]?.stringValue
    }
}
