/// Where the controller reads the API token that clients must present.
public enum TokenSource: Sendable, Equatable {
    /// The token is the value of this environment variable.
    case environment(String)
    /// The token is the content of the file at this absolute path, surrounding whitespace removed.
    case file(String)
}
