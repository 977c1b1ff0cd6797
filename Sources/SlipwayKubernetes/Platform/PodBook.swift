import Foundation
import SlipwayCore
import SlipwayPlatform

/// What a ``KubernetesPlatform`` knows of its apps' pods: each app's pods as its informer last saw them, which of
/// them serve as which instance, and how many starts of each release wait for a pod. Exits are reported from here, as
/// pods that served as instances go.
actor PodBook {
    /// A pod taken as an instance.
    struct Claim: Sendable {
        var pod: String
        var uid: String
        var version: String
        var since: Date
        /// Asked to stop: no longer counted in its release's replicas.
        var stopping = false
    }

    private var pods: [String: [String: PodView]] = [:]
    private var listed: Set<String> = []
    private var claims: [InstanceID: Claim] = [:]
    private var pending: [ReleaseKey: Int] = [:]
    private var endedTails: [InstanceID: [String]] = [:]
    private var endedOrder: [InstanceID] = []
    private let exits: AsyncStream<InstanceExit>.Continuation

    init(exits: AsyncStream<InstanceExit>.Continuation) {
        self.exits = exits
    }

    // MARK: What the informers see

    /// Takes in a change to `app`'s pods; returns the pods that failed for good while serving, to be deleted.
    func apply(_ event: InformerEvent, app: String) -> [PodView] {
        var failed: [PodView] = []
        switch event {
        case .listed(let items):
            let seen = items.compactMap(PodView.init)
            let before = pods[app] ?? [:]
            pods[app] = Dictionary(seen.map { ($0.uid, $0) }, uniquingKeysWith: { _, last in last })
            listed.insert(app)
            for (id, claim) in claims where id.app == app && pods[app]?[claim.uid] == nil {
                end(id, last: before[claim.uid])
            }
        case .added(let object), .modified(let object):
            guard let pod = PodView(object) else { break }
            pods[app, default: [:]][pod.uid] = pod
            if pod.phase == "Failed" || pod.phase == "Succeeded", let id = instance(ofUID: pod.uid) {
                end(id, last: pod)
                failed.append(pod)
            }
        case .deleted(let object):
            guard let pod = PodView(object) else { break }
            pods[app]?.removeValue(forKey: pod.uid)
            if let id = instance(ofUID: pod.uid) { end(id, last: pod) }
        }
        return failed
    }

    private func instance(ofUID uid: String) -> InstanceID? {
        claims.first { $0.value.uid == uid }?.key
    }

    private func end(_ id: InstanceID, last: PodView?) {
        guard let claim = claims.removeValue(forKey: id) else { return }
        let tail = (last?.lastMessage ?? "").split(separator: "\n", omittingEmptySubsequences: true).suffix(20)
            .map(String.init)
        endedTails[id] = tail
        endedOrder.append(id)
        if endedOrder.count > 1000 { endedTails.removeValue(forKey: endedOrder.removeFirst()) }
        let ranFor = Duration.milliseconds(Int64(Date().timeIntervalSince(claim.since) * 1000))
        exits.yield(InstanceExit(id: id, status: last?.lastExit ?? .unknown, ranFor: ranFor, stderrTail: tail))
    }

    /// Whether `app`'s pods have been listed at least once.
    func hasListed(_ app: String) -> Bool { listed.contains(app) }

    /// The pod of `app` with this uid, as last seen; nil once it is gone.
    func pod(app: String, uid: String) -> PodView? { pods[app]?[uid] }

    /// `app`'s pods, as last seen.
    func pods(of app: String) -> [PodView] { Array((pods[app] ?? [:]).values) }

    // MARK: Instances

    /// Counts one more start of `release` waiting for a pod.
    func addPending(_ release: ReleaseKey) { pending[release, default: 0] += 1 }

    /// Counts one fewer.
    func removePending(_ release: ReleaseKey) {
        pending[release] = max(0, (pending[release] ?? 0) - 1)
    }

    /// How many pods `release` should have: its instances not asked to stop, and the starts waiting for a pod.
    func replicas(of release: ReleaseKey) -> Int {
        let serving = claims.filter {
            $0.key.app == release.app && $0.value.version == release.version && !$0.value.stopping
        }
        return serving.count + (pending[release] ?? 0)
    }

    /// Takes a running pod of `release` no instance has, oldest first, as `instance` (one of the release's waiting
    /// starts); nil when there is none yet.
    func take(_ release: ReleaseKey, as instance: InstanceID) -> PodView? {
        let taken = Set(claims.values.map(\.uid))
        let candidates = (pods[release.app] ?? [:]).values.filter {
            $0.version == release.version && $0.instance == nil && !$0.deleting && $0.running && $0.ip != nil
                && !taken.contains($0.uid)
        }
        guard
            let pod = candidates.min(by: {
                ($0.startedAt ?? .distantPast, $0.name) < ($1.startedAt ?? .distantPast, $1.name)
            })
        else { return nil }
        claims[instance] = Claim(pod: pod.name, uid: pod.uid, version: release.version, since: Date())
        removePending(release)
        return pod
    }

    /// Takes the pod named `name` as `instance` of `version`, as an earlier controller left it; nil when `app` has no
    /// such pod (still being there to be deleted counts as none).
    func adopt(_ instance: InstanceID, pod name: String, version: String?) -> PodView? {
        guard let pod = (pods[instance.app] ?? [:]).values.first(where: { $0.name == name && !$0.deleting }),
            pod.instance == nil || pod.instance == instance.number,
            let version = version ?? pod.version
        else { return nil }
        claims[instance] = Claim(pod: pod.name, uid: pod.uid, version: version, since: pod.startedAt ?? Date())
        return pod
    }

    /// The instance's pod, unless it was asked to stop or is gone.
    func claim(of instance: InstanceID) -> Claim? { claims[instance] }

    /// Marks the instance as asked to stop; its claim, nil when it has none or was already asked.
    func markStopping(_ instance: InstanceID) -> Claim? {
        guard var claim = claims[instance], !claim.stopping else { return nil }
        claim.stopping = true
        claims[instance] = claim
        return claim
    }

    /// Forgets an instance whose start failed after it took its pod, without reporting an exit.
    func drop(_ instance: InstanceID) { claims.removeValue(forKey: instance) }

    /// Reports the end of an adopted instance whose pod was already gone.
    func reportGone(_ instance: InstanceID, since: Date) {
        claims[instance] = Claim(pod: "", uid: "", version: "", since: since)
        end(instance, last: nil)
    }

    /// The last lines an ended instance's container left.
    func endedTail(of instance: InstanceID) -> [String] { endedTails[instance] ?? [] }
}

/// One release of one app.
struct ReleaseKey: Hashable, Sendable {
    var app: String
    var version: String
}
