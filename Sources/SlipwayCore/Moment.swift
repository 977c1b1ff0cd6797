/// A point on a monotonic timeline, measured from an arbitrary origin.
///
/// State machines receive time as a `Moment` value instead of reading a clock, so tests can drive them
/// step by step. The executor maps its clock's instants to moments.
public struct Moment: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Time elapsed since the timeline's origin.
    public var sinceOrigin: Duration

    /// Creates a moment at the given offset from the origin.
    public init(_ sinceOrigin: Duration) {
        self.sinceOrigin = sinceOrigin
    }

    /// The origin of the timeline.
    public static let zero = Moment(.zero)

    public static func < (lhs: Moment, rhs: Moment) -> Bool { lhs.sinceOrigin < rhs.sinceOrigin }

    public static func + (lhs: Moment, rhs: Duration) -> Moment { Moment(lhs.sinceOrigin + rhs) }

    public static func - (lhs: Moment, rhs: Duration) -> Moment { Moment(lhs.sinceOrigin - rhs) }

    public static func - (lhs: Moment, rhs: Moment) -> Duration { lhs.sinceOrigin - rhs.sinceOrigin }

    public var description: String { "T+\(sinceOrigin)" }
}
