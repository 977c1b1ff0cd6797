import Foundation

/// Hosts reachable over real SSH on this machine, for tests of Slipway across hosts: `Tests/Fixtures/ssh-lab` makes
/// each a network namespace with its own address (198.18.N.2) and its own OpenSSH server. ``stop()`` stops every
/// server by PID and deletes the namespaces; ``with(hosts:_:)`` calls it however the test ends.
///
/// Every method waits for programs (the script, `ssh`) on a thread of its own, never on one of the few threads
/// that run every test's tasks: a test waiting here must not hold up the others.
public final class SSHLab: Sendable {
    /// One host of the lab.
    public struct Host: Sendable, Equatable {
        /// `h1`, `h2`, …
        public var name: String
        /// Its address, where its SSH server listens (port 22).
        public var address: String
        /// Its network namespace.
        public var namespace: String
        /// The root namespace's end of its link (set down to cut the host off).
        public var link: String
        /// Its SSH server's PID.
        public var sshdPID: Int32
        /// A folder of its own.
        public var root: String
    }

    /// The folder holding the lab: the client's identity, the hosts' keys, each host's folder.
    public let directory: String
    /// The hosts, in order.
    public let hosts: [Host]
    /// The identity file that every host accepts.
    public var identity: String { directory + "/client_key" }
    /// The known-hosts file listing every host's key.
    public var knownHosts: String { directory + "/known_hosts" }
    /// A folder with a short path, for SSH control sockets (a socket's path has room for about 100 bytes, and ssh
    /// adds 17 to it while it sets one up).
    public let sockets: String

    private init(directory: String, hosts: [Host]) throws {
        self.directory = directory
        self.hosts = hosts
        var template = Array("/tmp/slw-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SSHLabError("cannot create a folder for control sockets") }
        self.sockets = String(cString: made)
    }

    /// Runs `body` with `count` new hosts, and stops them however it ends.
    public static func with<T: Sendable>(hosts count: Int, _ body: (SSHLab) async throws -> T) async throws -> T {
        let lab = try await start(hosts: count)
        return try await LabScript.using(lab, stop: { await $0.stop() }, body)
    }

    /// Creates `count` hosts under a new temporary folder.
    public static func start(hosts count: Int) async throws -> SSHLab {
        try await LabScript.offload { try startNow(hosts: count) }
    }

    private static func startNow(hosts count: Int) throws -> SSHLab {
        let directory = try makeTemporaryDirectory("slipway-ssh-lab")
        let run = try script(["up", directory, String(count)])
        guard run.status == 0 else {
            _ = try? script(["down", directory])
            throw SSHLabError("ssh-lab up failed (\(run.status)): \(run.output)")
        }
        let table = try String(contentsOfFile: directory + "/hosts.tsv", encoding: .utf8)
        let hosts = table.split(separator: "\n").compactMap { line -> Host? in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 6, let pid = Int32(fields[4]) else { return nil }
            return Host(
                name: fields[0],
                address: fields[1],
                namespace: fields[2],
                link: fields[3],
                sshdPID: pid,
                root: fields[5]
            )
        }
        let lab: SSHLab
        do {
            lab = try SSHLab(directory: directory, hosts: hosts)
        } catch {
            _ = try? script(["down", directory])
            throw error
        }
        guard hosts.count == count else {
            lab.stopNow()
            throw SSHLabError("ssh-lab made \(hosts.count) of \(count) hosts: \(table)")
        }
        return lab
    }

    /// The options every `ssh` of the tests uses: batch mode, strict host keys from the lab's file, this identity.
    public func options(connectTimeout: Int = 2, knownHosts: String? = nil) -> [String] {
        [
            "-i", identity, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", "UserKnownHostsFile=\(knownHosts ?? self.knownHosts)", "-o", "ConnectTimeout=\(connectTimeout)",
            "-o", "LogLevel=ERROR",
        ]
    }

    /// Runs `command` on `host` as root over SSH (bounded by `connectTimeout` to connect, 30 s in all), with
    /// `extra` options before the destination.
    public func ssh(
        _ host: Host,
        _ command: String,
        extra: [String] = [],
        connectTimeout: Int = 2,
        knownHosts: String? = nil
    ) async throws -> (status: Int32, output: String) {
        let arguments =
            options(connectTimeout: connectTimeout, knownHosts: knownHosts) + extra + ["root@\(host.address)", command]
        return try await LabScript.offload { try LabScript.run("/usr/bin/ssh", arguments) }
    }

    /// Sets the host's link down: its address stops answering.
    public func cut(_ host: Host) async throws {
        let run = try await LabScript.offload { [directory] in try Self.script(["cut", directory, host.name]) }
        guard run.status == 0 else { throw SSHLabError("ssh-lab cut failed: \(run.output)") }
    }

    /// Sets the host's link up again.
    public func heal(_ host: Host) async throws {
        let run = try await LabScript.offload { [directory] in try Self.script(["heal", directory, host.name]) }
        guard run.status == 0 else { throw SSHLabError("ssh-lab heal failed: \(run.output)") }
    }

    /// Stops every SSH server by PID and deletes the namespaces and links. Calling it again does nothing.
    public func stop() async {
        _ = try? await LabScript.offload { self.stopNow() }
    }

    private func stopNow() {
        _ = try? Self.script(["down", directory])
        try? FileManager.default.removeItem(atPath: sockets)
    }

    private static func script(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try LabScript.run("/bin/bash", [Fixtures.path("ssh-lab")] + arguments, seconds: 300)
    }
}

/// The lab could not be made or changed.
public struct SSHLabError: Error, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
