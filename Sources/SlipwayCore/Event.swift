/// What happened: the kinds of facts the event log records.
///
/// Raw values are stored in the log; never rename a shipped case.
public enum EventKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// The controller started supervising its apps.
    case controllerStarted
    /// The controller stopped, after stopping every instance it started.
    case controllerStopped
    /// The platform started an instance process.
    case instanceStarted
    /// The platform could not start an instance (for example, its executable is missing).
    case instanceStartFailed
    /// The instance passed its health check (for the first time, or again after being unhealthy).
    case instanceHealthy
    /// The instance failed its health check `unhealthyThreshold` times in a row.
    case instanceUnhealthy
    /// The instance did not become healthy before its start deadline.
    case instanceFailedToStart
    /// The controller asked the instance to stop.
    case instanceStopping
    /// The instance process ended; `expected` says whether the controller had asked it to.
    case instanceExited
    /// A failed instance is being replaced by a new one.
    case instanceReplaced
    /// Instances keep failing: replacements wait, with exponentially growing delays.
    case crashLoopBackoff
    /// The instance was taken out of the route table and its in-flight requests finished (or the drain timed out).
    case instanceDrained
    /// The set of instances the app's listener routes to changed.
    case routesChanged
    /// A new instance finished its warm-up (synthetic and replayed requests) and takes traffic.
    case instanceWarmedUp
    /// A rollout began: `rollout` (its number within the app), `from`, `to`, `strategy`, `by`, `reason`, `plan`.
    case rolloutStarted
    /// A rollout moved to a step: `step` (0-based), `steps`, `description`.
    case rolloutStepStarted
    /// The share of traffic per version changed: `weights` (version → percent), `reason`.
    case trafficShifted
    /// An analysis window was judged: `verdict` (pass, fail, inconclusive), `checks` with values, thresholds and
    /// sample sizes, `window`.
    case analysisJudged
    /// An A/B test began its experiment: `variants` (name, version, share), `goals`, and its end conditions.
    case experimentStarted
    /// A verdict of an experiment changed: `report` (an experiment report), `changed` (the goals whose verdict moved).
    case experimentUpdated
    /// An experiment ended (its end condition, or the rollout moved on before it): `reason`, `report`. What happens to
    /// the rollout is a person's choice: `promote` keeps the variant, `abort` keeps the control.
    case experimentConcluded
    /// What a running experiment has counted so far (`checkpoint`, with a `summary`), recorded every few windows so
    /// that a restarted controller carries it on; `restored` when a restarted controller did.
    case experimentCheckpoint
    /// A person ended an A/B/n test by choosing the variant it keeps: `variant` (its name), `version` (now the
    /// rollout's candidate), `previous` (the candidate before), `others` (the variants that stop), `by`.
    case variantChosen
    /// A rollout was paused (by a user, or by a `pause` step).
    case rolloutPaused
    /// A paused rollout goes on.
    case rolloutResumed
    /// A host that runs instances of the app cannot be reached: the rollout holds, its instances there out of the
    /// routes. `host`, `instances`, `goingBackAfterMs` (when the rollout goes back unless the host is back).
    case rolloutHeld
    /// The host that held the rollout can be reached again: `host`, `heldForMs`.
    case rolloutHoldLifted
    /// A host of the app stopped answering over SSH, or did not answer when the controller started (`atStart`):
    /// `host`, `reason`. Its instances are out of the routes, nothing new is placed there, and a rollout under way
    /// holds.
    case hostUnreachable
    /// A host that could not be reached answers again: `host`, `unreachableForMs`. Its instances are probed again.
    case hostReachable
    /// A command that changed something on a host ran over SSH: `host`, `action` (`startInstance`, `stopInstance`,
    /// `killInstance`, `signalInstance`, `startDataPlane`, `stopDataPlane`, `install`, `shipRelease`), `command`
    /// (its words, never an instance's variables), `outcome`, `succeeded`, `tookMs`.
    case remoteCommand
    /// The candidate takes all traffic: it is the app's stable release from now on.
    case rolloutPromoted
    /// The engine or a user decided to go back to the stable release: `reason`, and the evidence.
    case rolloutRollingBack
    /// A rollout ended: `outcome` (promoted, rolledBack, aborted, superseded), `stable` (the release running now),
    /// `durationMs`.
    case rolloutFinished
    /// A user command was refused: `command`, `reason`.
    case commandRefused
    /// The controller found instances of an earlier run still alive and took them over (or stopped them).
    case instanceAdopted
    /// A hook began: `point` (preDeploy, prePromotion, postPromotion, onRollback), `hook` (its name), `kind`
    /// (command or webhook), `rollout`.
    case hookStarted
    /// A hook ended: `result` (succeeded, failed, timedOut), `summary`, `durationMs`; for a command `exitStatus`,
    /// `output` (its last 8 KiB), `outputBytes`, `outputTruncated`; for a webhook gate `attempts` and `status`.
    case hookFinished
    /// A webhook gate did not say go at its first question and is asked again every `intervalMs`: `problem`.
    case gateWaiting
    /// A deploy went ahead against a policy because a user forced it: `overridden` (what it overrode), `by`,
    /// `reason`, `version`.
    case deployForced
    /// A notification could not be delivered: `channel`, `event` (the kind it was about), `attempts`, `error`.
    case notificationFailed
    /// The last lines of an instance's standard error when its rollout's verdict became final (it began going back,
    /// or it was promoted): `rollout`, `version`, `lines` (oldest first; empty when it wrote none).
    case instanceLogTail
    /// The controller started a data plane process: `pid`, `build`, `reason` (none was running, or the last one
    /// ended).
    case dataPlaneStarted
    /// The controller attached to a data plane that was already serving: `pid`, `build`, `uptimeMs`.
    case dataPlaneAttached
    /// The data plane's control connection ended while the controller ran: `pid`, `reason`. A new one is started.
    case dataPlaneLost
    /// The proxy took an instance out of its version's rotation: `version`, `reason`, `ejectedForMs` (until its next
    /// probe). Its health checks look at it at once.
    case instanceEjected
    /// An ejected instance passed its probe and takes requests again: `version`, `reason`.
    case instanceReturned
    /// Every instance of a version is ejected: its requests are answered 503 at once. `version`, `reason`.
    case circuitOpened
    /// A version whose circuit was open has an instance in rotation again: `version`, `reason`.
    case circuitClosed
    /// A fault was added to the app's proxy, recorded before the proxy applies it: `fault` (its spec: `id`, `kind`,
    /// share, matches, `expiresAtMs`), `summary`, `by`, `reason`.
    case faultAdded
    /// A fault stopped applying: `id`, `reason` (removed, expired, reachedItsBound, refused by the data plane),
    /// `affected` (the requests it affected, when known), `by` when a person removed it.
    case faultRemoved
    /// Every fault was removed and new ones are refused until chaos is released: `by`, `reason`, `removed`.
    case chaosStopped
    /// Faults may be added again after a stop: `by`.
    case chaosReleased
    /// Chaos is about to crash or freeze the instance, recorded before the signal is sent: `action` (kill or
    /// hang), `signal`, `hangMs` (a hang's length), `version`, `by`, `reason`, `source` (manual or monkey).
    case chaosKill
    /// A frozen instance was let go (`SIGCONT`): `hungForMs`, `problem` when it could not be (it is gone).
    case chaosHangEnded
    /// Chaos cut the controller off a host and froze what Slipway runs there (its data plane and instances), recorded
    /// for each app on the host before anything is done: `host`, `durationMs`, `by`, `reason`.
    case chaosHostCut
    /// A host cut off by chaos was let go (`SIGCONT`) and the controller reaches it again: `host`, `cutForMs`,
    /// `thawed` (processes let go), `reason` (why it ended: its time was up, chaos was stopped, the controller is
    /// stopping), `problem` when the host could not be cut off after all.
    case chaosHostRestored
    /// The chaos monkey drew the day's plan: `day` (local date), `killAt` (absent: no kill that day),
    /// `probability`.
    case monkeyPlanned
    /// The monkey's planned kill was due and refused: `day`, `reasons` (a rollout under way, the app not fully
    /// healthy, deploy windows closed, chaos stopped, the minimum time since the last kill).
    case monkeySkipped
    /// A chaos experiment began (`slipway chaos run`), recorded for each app it touches: `id`, `title`, `by`,
    /// `apps`.
    case chaosExperimentStarted
    /// A chaos experiment ran (`slipway chaos run`), recorded for each app it touched: `title`, `status`
    /// (completed, failed, aborted, interrupted), `deviated`, `reason`, `durationMs`, `by`, `journal`, and the `id`
    /// of its `chaosExperimentStarted`.
    case chaosExperimentRan
}

/// An immutable fact about an app, before the log has stamped it with an id and a time.
public struct Event: Sendable, Hashable, Codable {
    /// The app it concerns (empty for controller-wide facts).
    public var app: String
    /// What happened.
    public var kind: EventKind
    /// The instance it concerns, if any.
    public var instance: InstanceID?
    /// The evidence: versions, ports, statuses, reasons, delays.
    public var fields: [String: JSONValue]

    /// Creates an event.
    public init(app: String, kind: EventKind, instance: InstanceID? = nil, fields: [String: JSONValue] = [:]) {
        self.app = app
        self.kind = kind
        self.instance = instance
        self.fields = fields
    }
}
