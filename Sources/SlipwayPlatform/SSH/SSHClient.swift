import Foundation
import SlipwayConfig

#if canImport(Glibc)
import Glibc
#endif

/// Runs commands on one host with the system's OpenSSH client (`/usr/bin/ssh`, else the first `ssh` on `PATH`).
///
/// Every connection is non-interactive (`BatchMode`), checks the host key by the host's policy, gives up after
/// ``connectTimeout`` and notices a dead peer within a few seconds (`ServerAliveInterval`). Commands to one host
/// share one connection (`ControlMaster auto`, `ControlPersist`), whose socket lives in ``controlDirectory``. A
/// command is given as words and quoted for the host's shell here: nothing written by a user reaches a shell
/// unquoted.
public struct SSHClient: Sendable {
    /// The host.
    public let host: HostSpec
    /// Where the shared connections' sockets are (a short path: a socket's path has room for about 100 bytes).
    public let controlDirectory: String
    /// How long connecting may take.
    public var connectTimeout: Duration
    /// How long a shared connection stays open once its last command has ended.
    public var persist: Duration
    /// Told of every command that changes something on the host (``RemoteCommand``); nil: nobody is.
    public var report: (@Sendable (RemoteCommand) -> Void)?
    /// While on, no command reaches the host (chaos cut it off); shared by this client's copies.
    public var cutOff = HostCutOff()

    /// The SSH exit status that means SSH itself failed (no connection, refused key, unknown host key), rather than
    /// the remote command.
    public static let connectionFailureStatus: Int32 = 255

    /// A client for `host`.
    public init(
        host: HostSpec,
        controlDirectory: String,
        connectTimeout: Duration = .seconds(5),
        persist: Duration = .seconds(60),
        report: (@Sendable (RemoteCommand) -> Void)? = nil
    ) {
        self.host = host
        self.controlDirectory = controlDirectory
        self.connectTimeout = connectTimeout
        self.persist = persist
        self.report = report
    }

    /// The folder for control sockets of this user, made if needed and refused unless it is this user's alone:
    /// `/tmp/slipway-ssh-UID`.
    public static func defaultControlDirectory() throws(SSHClientError) -> String {
        let path = "/tmp/slipway-ssh-\(getuid())"
        if mkdir(path, 0o700) != 0, errno != EEXIST {
            throw SSHClientError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == getuid(),
            info.st_mode & 0o077 == 0
        else {
            throw SSHClientError("\(path) is not a folder of this user's alone (mode 700); remove it")
        }
        return path
    }

    /// Where SSH reaches the host, as reports show it: `user@address:port`.
    public var destination: String {
        (host.user.map { "\($0)@" } ?? "") + "\(host.address):\(host.port)"
    }

    /// Runs `body` with a client for each of `hosts`, all at once; the results come in the order of `hosts`.
    public static func forEach<Result: Sendable>(
        _ hosts: [HostSpec],
        controlDirectory: String,
        connectTimeout: Duration,
        _ body: @escaping @Sendable (SSHClient) async -> Result
    ) async -> [Result] {
        await withTaskGroup(of: (Int, Result).self) { group in
            for (index, host) in hosts.enumerated() {
                group.addTask {
                    let client = SSHClient(
                        host: host,
                        controlDirectory: controlDirectory,
                        connectTimeout: connectTimeout
                    )
                    return (index, await body(client))
                }
            }
            var results: [(Int, Result)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// The `ssh` arguments (without the program) that run `command` on the host.
    public func arguments(for command: [String]) -> [String] {
        var options: [String] = [
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=\(host.hostKeys == .strict ? "yes" : "accept-new")",
            "-o", "ConnectTimeout=\(max(1, Int(connectTimeout.components.seconds)))",
            "-o", "ServerAliveInterval=5",
            "-o", "ServerAliveCountMax=2",
            "-o", "ControlMaster=auto",
            "-o", "ControlPath=\(controlDirectory)/%C",
            "-o", "ControlPersist=\(max(1, Int(persist.components.seconds)))",
            "-o", "LogLevel=ERROR",
            "-p", String(host.port),
        ]
        if let identity = host.identityFile { options += ["-i", identity, "-o", "IdentitiesOnly=yes"] }
        if let knownHosts = host.knownHostsFile { options += ["-o", "UserKnownHostsFile=\(knownHosts)"] }
        if let user = host.user { options += ["-l", user] }
        return options + ["--", host.address, ShellQuoting.commandLine(command)]
    }

    /// The `ssh` arguments (without the program) of a tunnel of its own (not the shared connection) that forwards the
    /// local Unix socket `local` to the socket `remote` on the host, and runs nothing there. It ends when the
    /// forward cannot be set up or the host stops answering (within about 10 s).
    public func tunnelArguments(local: String, remote: String) -> [String] {
        var arguments = self.arguments(for: [])
        arguments.removeLast()
        let shared = ["ControlMaster=auto", "ControlPath=\(controlDirectory)/%C"]
        var index = 0
        while index < arguments.count {
            if arguments[index] == "-o", index + 1 < arguments.count,
                shared.contains(arguments[index + 1]) || arguments[index + 1].hasPrefix("ControlPersist=")
            {
                arguments.removeSubrange(index...index + 1)
            } else {
                index += 1
            }
        }
        let separator = arguments.lastIndex(of: "--") ?? arguments.endIndex
        arguments.insert(
            contentsOf: [
                "-N", "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "ExitOnForwardFailure=yes",
                "-o", "StreamLocalBindUnlink=yes", "-L", "\(local):\(remote)",
            ],
            at: separator
        )
        return arguments
    }

    /// Ends the shared connection to the host, if one is open (`ssh -O exit`), so that no `ssh` process is left
    /// behind by a command that runs once.
    public func closeSharedConnection() async {
        var arguments = self.arguments(for: [])
        arguments.removeLast()
        _ = await HookProcess.run(
            argv: ["ssh", "-O", "exit"] + arguments,
            environment: [:],
            workingDirectory: nil,
            baseDirectory: "/",
            timeout: .seconds(5)
        )
    }

    /// Runs `command` on the host, for at most `timeout`, with the local file `input` as its standard input
    /// (nothing without one).
    public func run(
        _ command: [String],
        timeout: Duration = .seconds(30),
        input: String? = nil
    ) async
        -> HookProcessResult
    {
        if let reason = cutOff.reason {
            let message = "ssh: connect to host \(host.address) port \(host.port): \(reason)\n"
            return HookProcessResult(
                ending: .exited(Self.connectionFailureStatus),
                output: message,
                outputBytes: message.utf8.count,
                duration: .zero
            )
        }
        return await HookProcess.run(
            argv: ["ssh"] + arguments(for: command),
            environment: [:],
            workingDirectory: nil,
            baseDirectory: "/",
            timeout: timeout,
            outputLimit: 64 * 1024,
            input: input
        )
    }
}

/// SSH could not be set up on this machine.
public struct SSHClientError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
