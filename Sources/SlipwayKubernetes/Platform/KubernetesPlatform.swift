import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayPlatform

/// Runs instances as pods on a Kubernetes cluster: each release of an app is a Deployment (see
/// ``ReleaseManifest``), and each instance one of its pods.
///
/// Starting an instance adds a replica to its release's Deployment and takes the first new pod that runs: it is
/// labelled with the instance's number and its readiness gate ``KubernetesNames/servingCondition`` is set, so that
/// it becomes Ready. Stopping one clears the gate (the pod leaves its Service's endpoints, and is the one its
/// ReplicaSet removes first; `pod-deletion-cost` says the same to clusters from 1.22 on), then removes the replica;
/// should the ReplicaSet pick another pod, this one is deleted too. Exits come from a watch of each app's pods: a pod
/// that served as an instance and went, or failed for good. A controller that starts again takes its instances back
/// by name and label. The container's own restarts are the kubelet's business: they do not end the instance.
public final class KubernetesPlatform: Platform {
    /// Every instance exit, in the order they are seen. Read by one consumer.
    public let exits: AsyncStream<InstanceExit>
    /// The client.
    public let client: KubernetesClient

    private let workloads: [String: KubernetesWorkload]
    private let book: PodBook
    private let locks = ReleaseLocks()
    private let followers: [Task<Void, Never>]
    private let held = LeaseHolding()
    /// How often a wait looks at the pods again.
    private let pollInterval: Duration = .milliseconds(50)

    /// A platform running `workloads` (one per app) through `client`; each app's pods are watched from here on.
    public init(client: KubernetesClient, workloads: [KubernetesWorkload], watchTimeout: Duration = .seconds(300)) {
        self.client = client
        self.workloads = Dictionary(workloads.map { ($0.app, $0) }, uniquingKeysWith: { _, last in last })
        let (exits, continuation) = AsyncStream<InstanceExit>.makeStream(bufferingPolicy: .unbounded)
        self.exits = exits
        let book = PodBook(exits: continuation)
        self.book = book
        followers = workloads.map { workload in
            let informer = KubernetesInformer(
                client: client,
                path: Self.podsPath(workload) + "?labelSelector="
                    + Self.query(KubernetesNames.selector(app: workload.app)),
                watchTimeout: watchTimeout
            )
            return Task {
                for await event in informer.events() {
                    for pod in await book.apply(event, app: workload.app) {
                        try? await client.delete(Self.podPath(workload, pod.name), uid: pod.uid)
                    }
                }
            }
        }
    }

    deinit {
        for follower in followers { follower.cancel() }
    }

    /// Stops watching, gives up the apps' leases and closes the client's connections; the pods keep running.
    public func shutdown() async {
        for follower in followers { follower.cancel() }
        for lease in await held.stop() { await lease.release() }
        await client.shutdown()
    }

    /// Takes the lease of every app (``KubernetesLease``) as `identity`, waiting at most `patience` for another
    /// controller's to expire, and renews them every `renewal` until ``shutdown()``; `lost` is called with an app
    /// whose lease another controller took. Throws, holding none, when another controller keeps one.
    public func holdLeases(
        identity: String,
        patience: Duration = .seconds(20),
        renewal: Duration = .seconds(5),
        lost: @escaping @Sendable (String, String) -> Void
    ) async throws(KubernetesLeaseError) {
        var leases: [(app: String, lease: KubernetesLease)] = []
        for workload in workloads.values.sorted(by: { $0.app < $1.app }) {
            let lease = KubernetesLease(
                client: client,
                namespace: workload.namespace,
                app: workload.app,
                identity: identity
            )
            let holder: KubernetesLease.Holder?
            do {
                holder = try await lease.acquire(patience: patience)
            } catch {
                for taken in leases { await taken.lease.release() }
                throw KubernetesLeaseError(
                    description:
                        "cannot take the lease \(workload.namespace)/\(lease.name) of app \(workload.app): \(error)"
                )
            }
            if let holder {
                for taken in leases { await taken.lease.release() }
                throw KubernetesLeaseError(
                    description: "app \(workload.app) is managed by another controller: \(holder) holds the lease "
                        + "\(workload.namespace)/\(lease.name); stop that controller first"
                )
            }
            leases.append((workload.app, lease))
        }
        let renewing = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: renewal)
                guard !Task.isCancelled else { return }
                for (app, lease) in leases {
                    if let renewed = try? await lease.renew(), !renewed {
                        lost(app, "another controller took the lease \(lease.namespace)/\(lease.name)")
                    }
                }
            }
        }
        await held.start(leases.map(\.lease), renewing: renewing)
    }

    // MARK: Platform

    public func start(_ request: LaunchRequest) async throws(LaunchError) -> InstanceHandle {
        guard let workload = workloads[request.app] else {
            throw .spawnFailed("app \(request.app) has no Kubernetes workload")
        }
        let release = ReleaseKey(app: request.app, version: request.version)
        let name = KubernetesNames.releaseName(app: request.app, version: request.version)
        await book.addPending(release)
        do {
            try await scale(workload, release, run: request.run)
        } catch {
            await book.removePending(release)
            throw .spawnFailed("cannot scale Deployment \(workload.namespace)/\(name): \(error)")
        }
        let deadline = ContinuousClock.now + workload.startTimeout
        var taken: PodView?
        while taken == nil, ContinuousClock.now < deadline, !Task.isCancelled {
            taken = await book.take(release, as: request.instance)
            if taken == nil { try? await Task.sleep(for: pollInterval) }
        }
        guard let pod = taken else {
            let why = await whyNotRunning(release)
            await book.removePending(release)
            try? await scale(workload, release)
            throw .spawnFailed(
                "no new pod of Deployment \(workload.namespace)/\(name) ran within "
                    + "\(workload.startTimeout.formatted())\(why.map { ": \($0)" } ?? "")"
            )
        }
        let path = Self.podPath(workload, pod.name)
        do {
            try await label(pod, as: request.instance, path: path)
            try await setServing(true, path: path)
        } catch {
            await book.drop(request.instance)
            try? await scale(workload, release)
            throw .spawnFailed("cannot take pod \(workload.namespace)/\(pod.name) as \(request.instance): \(error)")
        }
        return handle(request.instance, pod: pod, workload: workload)
    }

    public func stop(_ instance: InstanceID) async {
        guard let workload = workloads[instance.app], let claim = await book.markStopping(instance) else { return }
        let release = ReleaseKey(app: instance.app, version: claim.version)
        let path = Self.podPath(workload, claim.pod)
        // Not serving: it leaves the endpoints, and its ReplicaSet removes it before any Ready pod.
        try? await setServing(false, path: path)
        let cost: JSONValue = [KubernetesNames.deletionCostAnnotation: "-1000000"]
        _ = try? await client.mergePatch(["metadata": ["annotations": cost]], at: path)
        _ = await wait(for: .seconds(10)) { await $0.pod(app: instance.app, uid: claim.uid)?.ready != true }
        try? await scale(workload, release)
        let chosen = await wait(for: .seconds(10)) { book in
            guard let pod = await book.pod(app: instance.app, uid: claim.uid) else { return true }
            return pod.deleting
        }
        // The ReplicaSet removed another pod (one that was not Ready either): this one goes all the same.
        if !chosen { try? await client.delete(path, uid: claim.uid) }
        // Its grace period is the pod's own; the kubelet kills it once that is over.
        _ = await wait(for: .seconds(120)) {
            await $0.pod(app: instance.app, uid: claim.uid) == nil
        }
    }

    public func adopt(
        _ instance: InstanceID,
        version: String?,
        reference: String,
        host: String,
        port: Int
    ) async -> InstanceHandle? {
        guard let workload = workloads[instance.app], let name = Self.podName(reference, workload) else { return nil }
        guard await waitListed(instance.app) else { return nil }
        if let pod = await book.adopt(instance, pod: name, version: version) {
            let path = Self.podPath(workload, pod.name)
            if pod.instance == nil { try? await label(pod, as: instance, path: path) }
            if !pod.serving { try? await setServing(true, path: path) }
            return handle(instance, pod: pod, workload: workload)
        }
        // Gone while nobody watched: reported as ended once the caller has the handle.
        let book = self.book
        Task { await book.reportGone(instance, since: Date()) }
        return InstanceHandle(
            id: instance,
            reference: reference,
            pid: 0,
            supervisorPid: nil,
            host: host,
            port: port,
            stdoutLog: "pod \(workload.namespace)/\(name)",
            stderrLog: "pod \(workload.namespace)/\(name)"
        )
    }

    public func reclaim(app: String, keeping known: Set<InstanceID>) async -> Reclaimed {
        guard let workload = workloads[app], await waitListed(app) else {
            return Reclaimed(stopped: [], highestNumber: 0)
        }
        let pods = await book.pods(of: app)
        let highest = pods.compactMap(\.instance).max() ?? 0
        let isKnown = { (pod: PodView) in pod.instance.map { known.contains(InstanceID(app: app, number: $0)) } ?? false
        }
        let unknown = pods.filter { !isKnown($0) && $0.instance != nil && !$0.deleting }
        // Every release of the app keeps the pods of known instances; the others (unknown instances, pods no
        // instance took) go, unknown instances' pods made not serving first.
        for pod in unknown {
            try? await setServing(false, path: Self.podPath(workload, pod.name))
        }
        var versions = Set(pods.compactMap(\.version))
        let deployments =
            (try? await client.list(
                Self.deploymentsPath(workload) + "?labelSelector=" + Self.query(KubernetesNames.selector(app: app))
            ))?.items ?? []
        for deployment in deployments {
            if let version = deployment.metadata?["annotations"]?[KubernetesNames.versionAnnotation]?.stringValue {
                versions.insert(version)
            }
        }
        for version in versions {
            let keep = pods.filter { $0.version == version && isKnown($0) && !$0.deleting }.count
            try? await scale(workload, ReleaseKey(app: app, version: version), replicas: keep)
        }
        for pod in unknown {
            try? await client.delete(Self.podPath(workload, pod.name), uid: pod.uid)
        }
        return Reclaimed(
            stopped: unknown.compactMap { $0.instance.map { InstanceID(app: app, number: $0) } }.sorted(),
            highestNumber: highest
        )
    }

    /// `SIGKILL` deletes the instance's pod at once, `SIGTERM` with its grace period (its exit is reported when it
    /// is gone); other signals cannot be sent through the API.
    public func signal(_ instance: InstanceID, _ signal: Int32) async -> Bool {
        guard signal == SIGKILL || signal == SIGTERM, let workload = workloads[instance.app],
            let claim = await book.claim(of: instance)
        else { return false }
        do {
            let path = Self.podPath(workload, claim.pod)
            try await client.delete(path, gracePeriodSeconds: signal == SIGKILL ? 0 : nil, uid: claim.uid)
            return true
        } catch {
            return false
        }
    }

    public func stderrTail(of instance: InstanceID, lines: Int) async -> [String] {
        guard let workload = workloads[instance.app], let claim = await book.claim(of: instance) else {
            return await book.endedTail(of: instance).suffix(lines)
        }
        let path =
            Self.podPath(workload, claim.pod)
            + "/log?container=\(ReleaseManifest.containerName)&tailLines=\(lines)"
        guard let text = try? await client.text(path) else { return [] }
        return text.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines).map(String.init)
    }

    // MARK: Scaling

    /// Sets `release`'s Deployment to `fixed` replicas, or to those it should have (its instances not asked to stop
    /// and its waiting starts): applied whole (created if need be) with `run`, else only scaled, and deleted once it
    /// has none.
    private func scale(
        _ workload: KubernetesWorkload,
        _ release: ReleaseKey,
        run: RunSpec? = nil,
        replicas fixed: Int? = nil
    ) async throws(KubernetesError) {
        let book = self.book
        let client = self.client
        let result = await locks.with(release) { () -> KubernetesError? in
            let replicas: Int
            if let fixed { replicas = fixed } else { replicas = await book.replicas(of: release) }
            do throws(KubernetesError) {
                if let run {
                    let manifest = ReleaseManifest.deployment(
                        of: workload,
                        version: release.version,
                        run: run,
                        replicas: replicas
                    )
                    _ = try await client.apply(manifest, at: Self.deploymentPath(workload, release))
                } else {
                    try await Self.setReplicas(replicas, client: client, workload: workload, release: release)
                }
                return nil
            } catch {
                return error
            }
        }
        if let result { throw result }
    }

    /// Sets `release`'s Deployment to `replicas` through its scale, or deletes it for none.
    private static func setReplicas(
        _ replicas: Int,
        client: KubernetesClient,
        workload: KubernetesWorkload,
        release: ReleaseKey
    ) async throws(KubernetesError) {
        let path = deploymentPath(workload, release)
        if replicas == 0 {
            try await client.delete(path)
        } else {
            do {
                _ = try await client.mergePatch(
                    ["spec": ["replicas": .int(replicas)]],
                    at: path + "/scale?fieldManager=\(KubernetesClient.fieldManager)"
                )
            } catch  where error.isNotFound {
                return
            }
        }
    }

    // MARK: Helpers

    /// Labels `pod` with the instance's number, as long as it is still the pod of that uid.
    private func label(_ pod: PodView, as instance: InstanceID, path: String) async throws(KubernetesError) {
        let labels: JSONValue = [KubernetesNames.instanceLabel: .string(String(instance.number ?? 0))]
        _ = try await client.mergePatch(["metadata": ["uid": .string(pod.uid), "labels": labels]], at: path)
    }

    private func setServing(_ serving: Bool, path: String) async throws(KubernetesError) {
        let condition: JSONValue = [
            "type": .string(KubernetesNames.servingCondition),
            "status": serving ? "True" : "False",
            "lastTransitionTime": .string(Date().formatted(.iso8601)),
        ]
        _ = try await client.strategicMergePatch(["status": ["conditions": [condition]]], at: path + "/status")
    }

    /// Waits until `condition` holds of the book, for at most `limit`; whether it held.
    private func wait(for limit: Duration, _ condition: (PodBook) async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline, !Task.isCancelled {
            if await condition(book) { return true }
            try? await Task.sleep(for: pollInterval)
        }
        return await condition(book)
    }

    /// Waits for `app`'s pods to be listed once (30 s at most).
    private func waitListed(_ app: String) async -> Bool {
        await wait(for: .seconds(30)) { await $0.hasListed(app) }
    }

    /// Why no pod of `release` runs, from the first that says.
    private func whyNotRunning(_ release: ReleaseKey) async -> String? {
        let pods = await book.pods(of: release.app).filter { $0.version == release.version && $0.instance == nil }
        if let pod = pods.first(where: { $0.waitingReason != nil }) {
            return "pod \(pod.name) is \(pod.waitingReason ?? "")"
        }
        return pods.isEmpty ? "no pod was created (see the Deployment's and ReplicaSet's events)" : nil
    }

    private func handle(_ instance: InstanceID, pod: PodView, workload: KubernetesWorkload) -> InstanceHandle {
        InstanceHandle(
            id: instance,
            reference: "pod:\(workload.namespace)/\(pod.name)",
            pid: 0,
            supervisorPid: nil,
            host: pod.ip ?? "",
            port: workload.port,
            stdoutLog: "pod \(workload.namespace)/\(pod.name)",
            stderrLog: "pod \(workload.namespace)/\(pod.name)"
        )
    }

    /// The pod a reference names, when it is one of `workload`'s namespace.
    private static func podName(_ reference: String, _ workload: KubernetesWorkload) -> String? {
        let prefix = "pod:\(workload.namespace)/"
        guard reference.hasPrefix(prefix) else { return nil }
        let name = String(reference.dropFirst(prefix.count))
        return name.isEmpty ? nil : name
    }

    static func podsPath(_ workload: KubernetesWorkload) -> String {
        "/api/v1/namespaces/\(workload.namespace)/pods"
    }

    static func podPath(_ workload: KubernetesWorkload, _ name: String) -> String {
        podsPath(workload) + "/" + name
    }

    static func deploymentsPath(_ workload: KubernetesWorkload) -> String {
        "/apis/apps/v1/namespaces/\(workload.namespace)/deployments"
    }

    static func deploymentPath(_ workload: KubernetesWorkload, _ release: ReleaseKey) -> String {
        deploymentsPath(workload) + "/" + KubernetesNames.releaseName(app: release.app, version: release.version)
    }

    /// A label selector as a query value.
    static func query(_ selector: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return selector.addingPercentEncoding(withAllowedCharacters: allowed) ?? selector
    }
}

/// The leases a platform holds, and the task that renews them.
private actor LeaseHolding {
    private var leases: [KubernetesLease] = []
    private var renewing: Task<Void, Never>?

    func start(_ leases: [KubernetesLease], renewing: Task<Void, Never>) {
        self.leases = leases
        self.renewing = renewing
    }

    /// Stops renewing; the leases to give up.
    func stop() async -> [KubernetesLease] {
        renewing?.cancel()
        if let renewing { await renewing.value }
        renewing = nil
        defer { leases = [] }
        return leases
    }
}

/// Another controller manages an app, or its lease cannot be taken.
public struct KubernetesLeaseError: Error, Sendable, CustomStringConvertible {
    /// What happened.
    public var description: String
}
