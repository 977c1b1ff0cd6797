/// Why the state database cannot be used. The file is never overwritten to get past one of these.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No state database exists yet at the path.
    case missing(path: String)
    /// The file is not a SQLite database (or is damaged).
    case notADatabase(path: String, reason: String)
    /// A newer Slipway wrote the database; this one does not know its schema.
    case newerSchema(path: String, unknownMigrations: [String])
    /// Reading or writing failed.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .missing(let path):
            return "no state database at \(path) (start the controller with `slipway up` first)"
        case .notADatabase(let path, let reason):
            return "state database \(path) is not a valid SQLite database (\(reason)); it was left untouched"
        case .newerSchema(let path, let unknown):
            return "state database \(path) was written by a newer Slipway (unknown schema migrations: "
                + "\(unknown.joined(separator: ", "))); upgrade Slipway to use it. It was left untouched"
        case .io(let path, let reason):
            return "state database \(path): \(reason)"
        }
    }
}
