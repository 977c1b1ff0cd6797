import SlipwayCore
import SlipwayEngine
import SlipwayPlatform

/// Looks at every host in use once a second over its shared SSH connection, and says when one is lost or back
/// (``HostReachability`` decides).
struct HostWatch: Sendable {
    /// How often each host is looked at.
    static let interval: Duration = .seconds(1)
    /// How long one look may take before it counts as a failure.
    static let lookTimeout: Duration = .seconds(4)
    /// How long it takes at most to tell that a host is lost (two failed looks, each at most its timeout, and the
    /// pauses between them), with a margin.
    static let timeToLose: Duration = (lookTimeout + interval) * 2 + .seconds(2)

    let clients: [SSHClient]
    let timeline: Timeline
    let policy: HostReachability.Policy
    /// The hosts lost from the start (they could not be reached when the controller started).
    let lostAtStart: Set<String>
    /// Told of each change, in order for each host; whether it took. A return that did not take (the host answers
    /// but could not be made ready) leaves the host lost, and the next look that reaches it tries again.
    let changed: @Sendable (String, HostReachability.Change) async -> Bool

    /// Runs until cancelled.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask { await watch(client) }
            }
        }
    }

    private func watch(_ client: SSHClient) async {
        let start = timeline.now
        var reachability = HostReachability(
            policy: policy,
            lostSince: lostAtStart.contains(client.host.name) ? start : nil
        )
        while !Task.isCancelled {
            let result = await client.run(["true"], timeout: Self.lookTimeout)
            let look: HostReachability.Look =
                result.succeeded ? .reached : .failed(HostProbe.problem(in: result))
            let now = timeline.now
            if let change = reachability.handle(look, at: now), !(await changed(client.host.name, change)),
                case .back(let after) = change
            {
                reachability = HostReachability(policy: policy, lostSince: now - after)
            }
            try? await Task.sleep(for: Self.interval)
        }
    }
}
