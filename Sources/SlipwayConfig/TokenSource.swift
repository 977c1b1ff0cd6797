/// Where the controller reads the API token that clients must present.
public enum TokenSource: Sendable, Equatable {
    /// A random token the controller creates in its state directory (``generatedFileName``, readable by its owner
    /// only) and reads again at every start; the CLI on the same machine reads it from there. The default when
    /// `controller.token` is absent.
    case generated
    /// The token is the value of this environment variable.
    case environment(String)
    /// The token is the content of the file at this absolute path, surrounding whitespace removed.
    case file(String)

    /// The generated token's file, in the state directory.
    public static let generatedFileName = "api-token"
}
