import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The traffic recorders of one app, by version and by instance; they outlive route-table swaps so totals keep
/// counting across them.
final class TrafficBook: Sendable {
    private struct Books {
        var versions: [String: TrafficRecorder] = [:]
        /// Shadow responses, by the version the copies went to.
        var shadows: [String: TrafficRecorder] = [:]
        /// The users' responses to the requests copied, by the version that served them.
        var originals: [String: TrafficRecorder] = [:]
        var instances: [String: (version: String, recorder: TrafficRecorder)] = [:]
        /// Instances no route table names any more, since when.
        var unroutedSince: [String: ContinuousClock.Instant] = [:]
        var routedVersions: Set<String> = []
        var unitEpoch = 0
    }

    /// How long the traffic of an instance no route names is still reported: long enough for every reader (the
    /// controller's analysis windows, its evidence, a Prometheus scrape) to see its last requests. Instance ids are
    /// never reused, so a recorder retired after it is never needed again.
    static let instanceRetention: Duration = .seconds(900)

    let app: String
    let unrouted: TrafficRecorder
    private let loops: [any EventLoop]
    private let books = NIOLockedValueBox(Books())
    /// The sticky users seen in this epoch, whatever version they were sent to, in shards by user so that the event
    /// loops rarely wait for each other.
    private let sightings = (0..<TrafficBook.sightingShards).map { _ in
        NIOLockedValueBox(UserSightings(capacity: UserSightings.capacity / TrafficBook.sightingShards))
    }
    static let sightingShards = 16

    init(app: String, loops: [any EventLoop]) {
        self.app = app
        self.loops = loops
        self.unrouted = TrafficRecorder(loops: loops)
    }

    /// The recorder of `version`, created on first use.
    func version(_ version: String) -> TrafficRecorder {
        recorder(\.versions, version)
    }

    /// The recorder of the shadow responses of `version` (copies sent to it by a mirror), created on first use.
    func shadow(_ version: String) -> TrafficRecorder {
        recorder(\.shadows, version)
    }

    /// The recorder of the users' responses from `version` to requests a mirror copied, created on first use.
    func original(_ version: String) -> TrafficRecorder {
        recorder(\.originals, version)
    }

    /// One of the books of recorders by version.
    private typealias Book = WritableKeyPath<Books, [String: TrafficRecorder]>

    /// The recorder of `version` in one of the books, created on first use.
    private func recorder(_ book: Book, _ version: String) -> TrafficRecorder {
        books.withLockedValue { books in
            if let recorder = books[keyPath: book][version] { return recorder }
            let recorder = TrafficRecorder(loops: loops)
            books[keyPath: book][version] = recorder
            return recorder
        }
    }

    /// Copies a mirror chose but did not send: no instance of the version could take one, or its connections to
    /// that instance were all busy.
    let mirrorsDropped = Atomic<Int>(0)

    /// Whether this is the first request of sticky user `user` to the app in `epoch`; nil past the capacity of
    /// ``UserSightings``. Takes the lock of the user's shard: only sticky routes ask.
    func isFirstSight(of user: UInt64, epoch: Int) -> Bool? {
        sightings[Int(user % UInt64(Self.sightingShards))].withLockedValue { $0.sight(user, epoch: epoch) }
    }

    /// The epoch of comparison units for a route table whose versions taking traffic are `versions`: the same as the
    /// last table's when they are the same, the next one otherwise.
    func unitEpoch(for versions: Set<String>) -> Int {
        books.withLockedValue { books in
            if versions != books.routedVersions {
                books.routedVersions = versions
                books.unitEpoch += 1
            }
            return books.unitEpoch
        }
    }

    /// The recorder of instance `id`, created on first use.
    func instance(_ id: String, version: String) -> TrafficRecorder {
        books.withLockedValue { books in
            if let entry = books.instances[id] { return entry.recorder }
            let recorder = TrafficRecorder(loops: loops)
            books.instances[id] = (version, recorder)
            return recorder
        }
    }

    /// Notes which instances the route table in force names (at `now`), and forgets the recorders of instances no
    /// table has named for ``instanceRetention``: without it, every instance an app ever ran would keep a histogram
    /// per event loop, and every sample would carry them all. A request still in flight to a forgotten instance
    /// records into the recorder it holds, unharmed.
    func routed(_ instances: Set<String>, at now: ContinuousClock.Instant = .now) {
        books.withLockedValue { books in
            for id in books.instances.keys {
                if instances.contains(id) {
                    books.unroutedSince[id] = nil
                } else if let since = books.unroutedSince[id] {
                    if now - since >= Self.instanceRetention {
                        books.instances[id] = nil
                        books.unroutedSince[id] = nil
                    }
                } else {
                    books.unroutedSince[id] = now
                }
            }
        }
    }

    /// The ids of the instances whose traffic is reported.
    var instanceIDs: Set<String> {
        books.withLockedValue { Set($0.instances.keys) }
    }

    /// Cumulative totals now.
    func sample() async -> AppTrafficSample {
        let (versions, instances, shadows, originals) = books.withLockedValue {
            ($0.versions, $0.instances, $0.shadows, $0.originals)
        }
        var sample = AppTrafficSample(
            app: app,
            takenAt: .now,
            versions: [:],
            instances: [:],
            unrouted: await unrouted.snapshot()
        )
        for (name, recorder) in versions { sample.versions[name] = await recorder.snapshot() }
        for (name, recorder) in shadows { sample.mirror.shadows[name] = await recorder.snapshot() }
        for (name, recorder) in originals { sample.mirror.originals[name] = await recorder.snapshot() }
        sample.mirror.dropped = mirrorsDropped.load(ordering: .relaxed)
        for (id, entry) in instances {
            sample.instances[id] = AppTrafficSample.InstanceTraffic(
                version: entry.version,
                traffic: await entry.recorder.snapshot()
            )
        }
        return sample
    }
}
