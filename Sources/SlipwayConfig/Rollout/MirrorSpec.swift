/// A mirror step (`mirror:` as a canary step, or `strategy.mirror` for any strategy but `recreate`): a share of the
/// requests the other versions serve is copied to the candidate for a while, and the candidate is judged on its
/// answers to them before users see it (or while they see it, placed after a weight).
///
/// The copies' responses are dropped; the proxy records their status and latency next to those of the users'
/// responses to the same requests. Every window is judged with the step's checks (else the app's
/// `analysis.checks`) on the copies' responses, and the app's `analysis.compare` comparisons weigh the copies'
/// responses against the originals.
public struct MirrorStepSpec: Sendable, Equatable {
    /// The share of eligible requests copied, more than 0. Key `share` (required), written like a weight.
    public var share: Percentage
    /// How long the copies go on, at least. Key `duration` (required), greater than 0.
    public var duration: Duration
    /// Conclusive windows that must pass before the step ends, 1 or more. Key `windows`; default 1.
    public var windows: Int
    /// Failing windows tolerated; one more rolls back. Key `failureLimit`, 0 or more; default 0.
    public var failureLimit: Int
    /// Checks for this step instead of the app's `analysis.checks`; nil uses those. Key `checks`.
    public var checks: [AnalysisCheck]?
    /// The methods copied, upper case. Key `methods`; default `[GET, HEAD]`. Copying a method that changes data
    /// makes the candidate change it too: list one only when the candidate writes somewhere harmless.
    public var methods: [String]
    /// The largest request body copied, in bytes. Key `maxBody` (a size like `64KiB`); default 64 KiB. Larger
    /// requests are not copied.
    public var maxBodyBytes: Int

    /// Creates a mirror step; the defaults are those used when the keys are absent.
    public init(
        share: Percentage,
        duration: Duration,
        windows: Int = 1,
        failureLimit: Int = 0,
        checks: [AnalysisCheck]? = nil,
        methods: [String] = ["GET", "HEAD"],
        maxBodyBytes: Int = 64 * 1024
    ) {
        self.share = share
        self.duration = duration
        self.windows = windows
        self.failureLimit = failureLimit
        self.checks = checks
        self.methods = methods
        self.maxBodyBytes = maxBodyBytes
    }

    /// The step's windows as an analysis step judges them.
    public var analysis: AnalysisStepSpec {
        AnalysisStepSpec(windows: windows, failureLimit: failureLimit, checks: checks)
    }
}
