/// Every problem found in a configuration file, thrown when it cannot be loaded.
public struct ConfigErrors: Error, Sendable, Equatable, CustomStringConvertible {
    /// The problems, sorted by line, then column; problems at the same position keep the order they were found in.
    public var diagnostics: [ConfigDiagnostic]

    /// Collects `diagnostics`, sorting them by position.
    public init(_ diagnostics: [ConfigDiagnostic]) {
        self.diagnostics = diagnostics.enumerated()
            .sorted { lhs, rhs in
                if lhs.element.location != rhs.element.location {
                    return lhs.element.location < rhs.element.location
                }
                return lhs.offset < rhs.offset
            }
            .map(\.element)
    }

    /// One diagnostic per line.
    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}
