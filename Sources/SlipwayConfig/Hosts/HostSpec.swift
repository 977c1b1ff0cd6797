/// A machine Slipway runs instances on over SSH (an entry of the top-level `hosts` list).
///
/// The controller reaches it with the system's OpenSSH client; on the host, Slipway owns one folder (`directory`)
/// for its binaries, releases, instance logs and the host's data plane.
public struct HostSpec: Sendable, Equatable {
    /// How an unknown host key is treated.
    public enum HostKeyPolicy: String, Sendable, Equatable, CaseIterable {
        /// Refuse a host whose key is not in the known-hosts file (`StrictHostKeyChecking yes`). The default.
        case strict
        /// Accept and remember the key of a host seen for the first time, refuse a changed one
        /// (`StrictHostKeyChecking accept-new`).
        case acceptNew
    }

    /// The host's name in the file (`web-1`): lower-case letters, digits and `-`, starting with a letter, unique.
    /// Key `name`.
    public var name: String
    /// Where SSH reaches it: an IP address or a DNS name. Key `address`.
    public var address: String
    /// The SSH port. Key `port`, 1 to 65535; default 22.
    public var port: Int
    /// The user SSH logs in as; nil for the SSH client's default. Key `user`.
    public var user: String?
    /// The private key to log in with, as an absolute path (written relative to the file, or with `~/`); nil for
    /// the SSH client's default. Key `identityFile`; the file must exist.
    public var identityFile: String?
    /// The known-hosts file host keys are checked against, as an absolute path; nil for the SSH client's default.
    /// Key `knownHostsFile`.
    public var knownHostsFile: String?
    /// How an unknown host key is treated. Key `hostKeys`: `strict` (default) or `acceptNew`.
    public var hostKeys: HostKeyPolicy
    /// The folder Slipway owns on the host, absolute. Key `directory`; default `/var/lib/slipway`.
    public var directory: String

    /// The default of `directory`.
    public static let defaultDirectory = "/var/lib/slipway"

    /// Creates a host; the defaults are those used when the keys are absent.
    public init(
        name: String,
        address: String,
        port: Int = 22,
        user: String? = nil,
        identityFile: String? = nil,
        knownHostsFile: String? = nil,
        hostKeys: HostKeyPolicy = .strict,
        directory: String = HostSpec.defaultDirectory
    ) {
        self.name = name
        self.address = address
        self.port = port
        self.user = user
        self.identityFile = identityFile
        self.knownHostsFile = knownHostsFile
        self.hostKeys = hostKeys
        self.directory = directory
    }
}
