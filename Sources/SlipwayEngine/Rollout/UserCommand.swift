/// What a user asks of a running (or just finished) rollout. Every command is idempotent: asking twice does what
/// asking once did, and the second answer says so.
public enum UserCommand: Sendable, Equatable, Hashable {
    /// Go on to the next step now (`full`: skip every remaining step and promote).
    case promote(full: Bool)
    /// End an A/B(/n) test's experiment by keeping one variant (its name, `B`, `C`, …, or its version): the rollout
    /// goes on to promote it and stops the others.
    case choose(variant: String)
    /// Send all traffic back to stable and stop the candidate.
    case abort
    /// Hold the rollout at its current step until `resume`.
    case pause
    /// Go on after `pause` (or after a `pause: {}` step).
    case resume
    /// Start an aborted or rolled-back rollout again, with the same candidate.
    case retry
    /// After a promotion, go back to the previous release (or to `version`).
    case rollback(to: String?)

    /// The command's name as the CLI and the API spell it.
    public var name: String {
        switch self {
        case .promote(let full): return full ? "promote --full" : "promote"
        case .choose(let variant): return "promote --variant \(variant)"
        case .abort: return "abort"
        case .pause: return "pause"
        case .resume: return "resume"
        case .retry: return "retry"
        case .rollback(let version): return version.map { "rollback --to \($0)" } ?? "rollback"
        }
    }
}
