/// A position in the configuration file.
///
/// Lines and columns start at 1; columns count Unicode scalars. A location of 0:0 means
/// "no particular position", for example when the file could not be read at all.
public struct SourceLocation: Sendable, Equatable, Hashable, Comparable, CustomStringConvertible {
    /// The 1-based line number.
    public var line: Int
    /// The 1-based column number, counted in Unicode scalars.
    public var column: Int

    /// Creates a location from a 1-based line and column.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// The start of a document: line 1, column 1.
    public static let documentStart = SourceLocation(line: 1, column: 1)

    /// A location that points nowhere in particular (0:0).
    public static let unknown = SourceLocation(line: 0, column: 0)

    /// Orders locations by line, then column.
    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }

    /// `line:column`, for example `12:15`.
    public var description: String { "\(line):\(column)" }
}
