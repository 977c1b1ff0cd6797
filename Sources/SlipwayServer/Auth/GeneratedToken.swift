import Foundation
import SlipwayConfig

/// The token a controller makes for itself when `controller.token` is absent: 256 random bits, base64url, in
/// `<stateDir>/api-token`, which only its owner may read. The next start reads it again, so clients keep working;
/// the CLI on the same machine reads the same file.
enum GeneratedToken {
    /// The file in `stateDirectory`.
    static func path(in stateDirectory: String) -> String {
        stateDirectory + "/" + TokenSource.generatedFileName
    }

    /// The token in `stateDirectory`, created now when there is none. A file that other users may read or write is
    /// refused, as OpenSSH refuses such a key: whoever can read it can deploy.
    static func load(stateDirectory: String) throws(TokenReadError) -> APIToken {
        let file = path(in: stateDirectory)
        var info = stat()
        if lstat(file, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFREG else {
                throw TokenReadError("\(file) is not a regular file; remove it, and a new token is made")
            }
            guard info.st_uid == getuid() else {
                throw TokenReadError("\(file) belongs to another user (uid \(info.st_uid))")
            }
            guard info.st_mode & 0o077 == 0 else {
                throw TokenReadError(
                    "\(file) may be read or written by other users (mode \(String(info.st_mode & 0o777, radix: 8)));"
                        + " `chmod 600` it"
                )
            }
            guard let data = FileManager.default.contents(atPath: file),
                let text = String(data: data, encoding: .utf8),
                let token = APIToken(text.trimmingCharacters(in: .whitespacesAndNewlines))
            else {
                throw TokenReadError("\(file) holds no token; remove it, and a new token is made")
            }
            return token
        }
        return try create(file, in: stateDirectory)
    }

    /// Writes a new token to `file`, owner-only from its first byte: created with mode 0600 and `O_EXCL`, so that a
    /// racing start cannot have both write it.
    private static func create(_ file: String, in stateDirectory: String) throws(TokenReadError) -> APIToken {
        do {
            try FileManager.default.createDirectory(
                atPath: stateDirectory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw TokenReadError("cannot create the state directory \(stateDirectory) for the token: \(error)")
        }
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        let value = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        let descriptor = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST { return try load(stateDirectory: stateDirectory) }
            throw TokenReadError("cannot create \(file): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let line = Array((value + "\n").utf8)
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(descriptor) == 0, let token = APIToken(value) else {
            unlink(file)
            throw TokenReadError("cannot write \(file): \(String(cString: strerror(errno)))")
        }
        return token
    }
}
