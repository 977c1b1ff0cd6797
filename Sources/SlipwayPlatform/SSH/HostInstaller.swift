import Crypto
import Foundation
import SlipwayConfig
import SlipwayCore
import SystemPackage

/// One program Slipway runs on hosts, as built on this machine.
public struct HostBinary: Sendable, Equatable {
    /// Its file name (`slipway-dataplane`).
    public var name: String
    /// Where it is here.
    public var path: String
    /// Its SHA-256, in lower-case hex.
    public var sha256: String
    /// Its size in bytes.
    public var bytes: Int

    /// The programs a host needs: the data plane and the instance supervisor, found in `folder` (by default the
    /// running program's own, where `swift build` and an installation put them) and checksummed on a thread of
    /// their own (a large file takes a while, and the tasks around it go on meanwhile).
    public static func bundled(
        in folder: String = ExecutableResolver.ownDirectory() ?? "."
    ) async throws(HostInstallError) -> [HostBinary] {
        var binaries: [HostBinary] = []
        for name in ["slipway-dataplane", "slipway-supervisor"] {
            binaries.append(try await read(name: name, path: folder + "/" + name))
        }
        return binaries
    }

    /// Reads and checksums the file at `path` on a thread of its own (a large file takes a while, and the tasks
    /// around it go on meanwhile).
    public static func read(name: String, path: String) async throws(HostInstallError) -> HostBinary {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<HostBinary, HostInstallError>, Never>) in
            Thread.detachNewThread {
                continuation.resume(
                    returning: Result { () throws(HostInstallError) -> HostBinary in
                        try HostBinary(name: name, path: path)
                    }
                )
            }
        }
        return try result.get()
    }

    /// Reads and checksums the file at `path`.
    public init(name: String, path: String) throws(HostInstallError) {
        self.name = name
        self.path = path
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(FilePath(path), .readOnly)
        } catch {
            throw HostInstallError("cannot read \(path): \(error)")
        }
        defer { try? file.close() }
        var hash = SHA256()
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count: Int
            do {
                count = try buffer.withUnsafeMutableBytes { try file.read(into: $0) }
            } catch {
                throw HostInstallError("cannot read \(path): \(error)")
            }
            if count == 0 { break }
            total += count
            buffer.withUnsafeBytes { hash.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
        }
        sha256 = hash.finalize().map { String(format: "%02x", $0) }.joined()
        bytes = total
    }
}

/// What installing on one host did.
public struct HostInstallReport: Sendable, Equatable, Codable {
    /// One program's fate.
    public struct Program: Sendable, Equatable, Codable {
        /// Its file name.
        public var name: String
        /// `present` (already there with the right checksum) or `copied`.
        public var action: String
        /// Its SHA-256, as checked on the host.
        public var sha256: String
    }

    /// The host's name in the config.
    public var name: String
    /// `user@address:port`.
    public var destination: String
    /// The folder the programs are in there: `<directory>/bin/<version>`.
    public var folder: String
    /// Each program, once done; empty when the host could not be reached.
    public var programs: [Program]
    /// Why it failed, when it did.
    public var problem: String?
    /// Bytes sent.
    public var bytesCopied: Int
    /// How long it took, in milliseconds.
    public var tookMs: Int

    /// Whether every program is there with its checksum.
    public var installed: Bool { problem == nil }
}

/// Puts this build's data plane and supervisor on hosts, in `<directory>/bin/<version>/`: a program already there
/// with the right SHA-256 is left alone; any other is sent over the host's SSH connection into a temporary file,
/// checked there against its checksum, and only then moved into place (a running program keeps its old file). A
/// later build of the same version with other bytes replaces it the same way.
public enum HostInstaller {
    /// Lines the install scripts print start with this, so that nothing else a host prints is taken for an answer.
    static let marker = "slipway-install:"

    /// The folder of this build's programs on a host whose Slipway folder is `directory`.
    public static func folder(directory: String, version: String = SlipwayBuild.version) -> String {
        directory + "/bin/" + version
    }

    /// Installs `binaries` on every host at once, each within `timeout`; reports in the order of `hosts`.
    public static func install(
        _ binaries: [HostBinary],
        on hosts: [HostSpec],
        controlDirectory: String,
        connectTimeout: Duration = .seconds(5),
        timeout: Duration = .seconds(120)
    ) async -> [HostInstallReport] {
        await SSHClient.forEach(hosts, controlDirectory: controlDirectory, connectTimeout: connectTimeout) { client in
            let report = await install(binaries, with: client, timeout: timeout)
            await client.closeSharedConnection()
            return report
        }
    }

    /// Installs `binaries` on `client`'s host, within `timeout`.
    public static func install(
        _ binaries: [HostBinary],
        with client: SSHClient,
        timeout: Duration
    ) async
        -> HostInstallReport
    {
        let started = ContinuousClock.now
        let host = client.host
        let folder = folder(directory: host.directory)
        var report = HostInstallReport(
            name: host.name,
            destination: client.destination,
            folder: folder,
            programs: [],
            problem: nil,
            bytesCopied: 0,
            tookMs: 0
        )
        defer { report.tookMs = Int((ContinuousClock.now - started).milliseconds) }
        // What is there: the folder made if missing, then each program's checksum.
        let look = """
            mkdir -p "$1" || exit 3
            dir="$1"; shift
            for name in "$@"; do
              if [ -f "$dir/$name" ]; then echo "\(marker)sum $name $(sha256sum < "$dir/$name" | cut -d ' ' -f 1)"; fi
            done
            echo "\(marker)looked"
            """
        let looked = await client.run(["sh", "-c", look, "slipway-install", folder] + binaries.map(\.name))
        let found = MarkedAnswers(looked.output, marker: marker)
        guard looked.succeeded, found.first("looked") != nil else {
            report.problem = HostProbe.problem(in: looked)
            return report
        }
        var present: [String: String] = [:]
        for sum in found.all("sum") {
            let words = sum.split(separator: " ")
            if words.count == 2 { present[String(words[0])] = String(words[1]) }
        }
        // Each missing or different program: into a temporary file, checked, then moved into place.
        let put = """
            tmp="$1/.$2.upload.$$"
            cat > "$tmp" || { rm -f "$tmp"; exit 3; }
            sum=$(sha256sum < "$tmp" | cut -d ' ' -f 1)
            if [ "$sum" != "$3" ]; then rm -f "$tmp"; echo "\(marker)mismatch $sum"; exit 4; fi
            chmod 755 "$tmp" && mv -f "$tmp" "$1/$2" && echo "\(marker)placed $sum"
            """
        for binary in binaries {
            if present[binary.name] == binary.sha256 {
                report.programs.append(.init(name: binary.name, action: "present", sha256: binary.sha256))
                continue
            }
            let sent = await client.change(
                "install",
                words: ["\(folder)/\(binary.name)", "sha256:\(binary.sha256)", "from \(binary.path)"],
                ["sh", "-c", put, "slipway-install", folder, binary.name, binary.sha256],
                timeout: timeout,
                input: binary.path
            )
            let answers = MarkedAnswers(sent.output, marker: marker)
            guard sent.succeeded, answers.first("placed") == binary.sha256 else {
                if let arrived = answers.first("mismatch") {
                    report.problem =
                        "\(binary.name) arrived with SHA-256 \(arrived), not \(binary.sha256); it was not installed"
                } else {
                    report.problem = "cannot copy \(binary.name): \(HostProbe.problem(in: sent))"
                }
                return report
            }
            report.bytesCopied += binary.bytes
            report.programs.append(.init(name: binary.name, action: "copied", sha256: binary.sha256))
        }
        return report
    }
}

/// This build's programs could not be read.
public struct HostInstallError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
