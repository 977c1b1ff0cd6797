import SlipwayCore
import Synchronization

/// Runs each app's instances across the places it is given (this machine, or each of its hosts), one platform per
/// place.
///
/// A new instance goes to the app's place that runs the fewest of the app's instances, then the fewest of its
/// version, then the first in the order given: an app's instances stay spread evenly over its hosts through every
/// rollout, and a canary's first instances land on different hosts. A place marked unreachable
/// (``setReachable(_:_:)``) gets no new instance while another can take it. Everything else about an instance goes
/// to the platform that runs it. An instance is adopted by the first of its app's places whose platform knows its reference.
public final class PlacedPlatform: Platform {
    /// The place of apps that run on the controller's machine (not a valid host name).
    public static let thisMachine = "this machine"

    /// Every instance exit of every place, in the order they are seen. Read by one consumer.
    public let exits: AsyncStream<InstanceExit>

    fileprivate struct Located: Sendable {
        var place: String
        /// The version it runs, when known.
        var version: String?
    }

    private let platforms: [String: any Platform]
    private let placement: [String: [String]]
    private let located = Placements()
    private let unreachable = Mutex<Set<String>>([])
    private let forwarders: [Task<Void, Never>]

    /// Places `placement` (app → place names, in order) on `platforms` (place name → its platform). Each platform's
    /// exits are read from here on: nothing else may read them.
    public init(platforms: [String: any Platform], placement: [String: [String]]) {
        precondition(
            placement.values.allSatisfy { !$0.isEmpty && $0.allSatisfy { platforms[$0] != nil } },
            "every app needs at least one place, each with a platform"
        )
        self.platforms = platforms
        self.placement = placement
        let (exits, continuation) = AsyncStream<InstanceExit>.makeStream(bufferingPolicy: .unbounded)
        self.exits = exits
        let located = self.located
        forwarders = platforms.values.map { platform in
            Task {
                for await exit in platform.exits {
                    located.withLock { _ = $0.removeValue(forKey: exit.id) }
                    continuation.yield(exit)
                }
            }
        }
    }

    deinit {
        for forwarder in forwarders { forwarder.cancel() }
    }

    /// The place that runs `instance`, while it runs.
    public func place(of instance: InstanceID) -> String? {
        located.withLock { $0[instance]?.place }
    }

    /// Marks `place` as one that can (or cannot) be reached: new instances avoid one that cannot.
    public func setReachable(_ place: String, _ reachable: Bool) {
        unreachable.withLock {
            if reachable { $0.remove(place) } else { $0.insert(place) }
        }
    }

    /// How many of `app`'s instances each of its places runs, in the order of its places.
    public func spread(of app: String) -> [(place: String, instances: Int)] {
        let places = placement[app] ?? []
        let counts = located.withLock { located in
            places.map { place in located.filter { $0.key.app == app && $0.value.place == place }.count }
        }
        return Array(zip(places, counts)).map { (place: $0.0, instances: $0.1) }
    }

    public func start(_ request: LaunchRequest) async throws(LaunchError) -> InstanceHandle {
        let id = request.instance
        let places = placement[request.app] ?? []
        let lost = unreachable.withLock { $0 }
        let reachable = places.filter { !lost.contains($0) }
        let place = located.withLock { located -> String in
            let chosen = Self.choose(
                among: reachable.isEmpty ? places : reachable,
                app: request.app,
                version: request.version,
                located: located
            )
            // Held while it starts, so that starts at the same moment spread out too.
            located[id] = Located(place: chosen, version: request.version)
            return chosen
        }
        guard let platform = platforms[place] else {
            located.withLock { _ = $0.removeValue(forKey: id) }
            throw .spawnFailed("app \(request.app) has no place to run")
        }
        do {
            return try await platform.start(request)
        } catch {
            located.withLock { _ = $0.removeValue(forKey: id) }
            throw error
        }
    }

    /// The place with the fewest of the app's instances, then of its version, then the first.
    private static func choose(
        among places: [String],
        app: String,
        version: String,
        located: [InstanceID: Located]
    ) -> String {
        var best: (place: String, key: (Int, Int, Int))?
        for (index, place) in places.enumerated() {
            let here = located.filter { $0.key.app == app && $0.value.place == place }
            let key = (here.count, here.filter { $0.value.version == version }.count, index)
            if best == nil || key < best!.key { best = (place, key) }
        }
        return best?.place ?? ""
    }

    public func stop(_ instance: InstanceID) async {
        guard let platform = platform(of: instance) else { return }
        await platform.stop(instance)
    }

    public func adopt(
        _ instance: InstanceID,
        version: String?,
        reference: String,
        host: String,
        port: Int
    ) async -> InstanceHandle? {
        for place in placement[instance.app] ?? [] {
            guard let platform = platforms[place],
                let handle = await platform.adopt(
                    instance,
                    version: version,
                    reference: reference,
                    host: host,
                    port: port
                )
            else { continue }
            located.withLock { $0[instance] = Located(place: place, version: version) }
            return handle
        }
        return nil
    }

    /// A place marked unreachable is left out: it is reclaimed on its own once it is reached
    /// (``reclaim(app:on:keeping:)``).
    public func reclaim(app: String, keeping known: Set<InstanceID>) async -> Reclaimed {
        let lost = unreachable.withLock { $0 }
        return await reclaim(app: app, on: (placement[app] ?? []).filter { !lost.contains($0) }, keeping: known)
    }

    /// ``reclaim(app:keeping:)`` on the places `places` alone (a host reached again, say).
    public func reclaim(app: String, on places: [String], keeping known: Set<InstanceID>) async -> Reclaimed {
        var result = Reclaimed(stopped: [], highestNumber: 0)
        for place in places where placement[app]?.contains(place) == true {
            guard let platform = platforms[place] else { continue }
            let reclaimed = await platform.reclaim(app: app, keeping: known)
            result.stopped += reclaimed.stopped
            result.highestNumber = max(result.highestNumber, reclaimed.highestNumber)
        }
        return result
    }

    public func signal(_ instance: InstanceID, _ signal: Int32) async -> Bool {
        guard let platform = platform(of: instance) else { return false }
        return await platform.signal(instance, signal)
    }

    public func stderrTail(of instance: InstanceID, lines: Int) async -> [String] {
        if let platform = platform(of: instance) { return await platform.stderrTail(of: instance, lines: lines) }
        // An instance that ended is no longer placed: its logs are on the first of its places that has them.
        for place in placement[instance.app] ?? [] {
            guard let platform = platforms[place] else { continue }
            let tail = await platform.stderrTail(of: instance, lines: lines)
            if !tail.isEmpty { return tail }
        }
        return []
    }

    private func platform(of instance: InstanceID) -> (any Platform)? {
        located.withLock { $0[instance] }.flatMap { platforms[$0.place] }
    }
}

/// Where each running instance is, shared by the platform and the tasks that read its places' exits.
private final class Placements: Sendable {
    private let mutex = Mutex<[InstanceID: PlacedPlatform.Located]>([:])

    func withLock<T>(_ body: (inout [InstanceID: PlacedPlatform.Located]) -> T) -> T {
        mutex.withLock { body(&$0) }
    }
}
