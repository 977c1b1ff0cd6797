import Atomics

/// Holds the current route table of one app.
///
/// The controller stores a new table with release ordering and readers load it with acquire ordering, so a reader
/// sees a fully built table and never takes a lock.
public final class RouteTableBox: Sendable {
    private let current: ManagedAtomic<RouteTable>

    /// Creates a box holding `table`.
    public init(_ table: RouteTable = .empty) {
        current = ManagedAtomic(table)
    }

    /// The current table.
    public func load() -> RouteTable {
        current.load(ordering: .acquiring)
    }

    /// Replaces the current table; requests already routed keep the table they loaded.
    public func store(_ table: RouteTable) {
        current.store(table, ordering: .releasing)
    }
}
