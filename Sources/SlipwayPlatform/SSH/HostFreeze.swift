import SlipwaySupervision

/// Freezes and lets go everything Slipway runs on a host: its data plane and the process group of every instance a
/// live supervisor there records (the supervisors themselves go on). A frozen host keeps its connections open and
/// answers nothing, to its clients and to the other hosts' data planes alike: what a host the network no longer
/// reaches looks like from outside.
public enum HostFreeze {
    /// The lines the command prints start with this.
    static let marker = "slipway-freeze:"

    /// Sends `SIGSTOP` (`freeze`) or `SIGCONT` to the host's data plane (its pid file is `dataPlanePidFile`) and
    /// instances, through `client` (reported as `freezeHost` or `thawHost`). A freeze stops the data plane first, a
    /// thaw lets the instances go first, so that no request reaches a frozen instance through a running data plane.
    /// How many processes were signalled, or why the host could not be reached.
    public static func signal(
        freeze: Bool,
        with client: SSHClient,
        dataPlanePidFile: String,
        timeout: Duration = .seconds(10)
    ) async -> Result<Int, HostFreezeError> {
        let records = String(
            SupervisionPaths(stateDirectory: client.host.directory + "/state", app: "", instance: "")
                .recordDirectory.dropLast()
        )
        let script = """
            n=0
            plane() {
              pid=$(cat "$3" 2>/dev/null)
              if [ -n "$pid" ] && kill -"$1" "$pid" 2>/dev/null; then n=$((n + 1)); fi
            }
            [ "$1" = STOP ] && plane "$@"
            for record in "$2"/*/*.supervisor; do
              [ -e "$record" ] || continue
              supervisor=$(sed -n 's/^supervisor-pid=//p' "$record")
              pid=$(sed -n 's/^pid=//p' "$record")
              [ -n "$supervisor" ] && [ -n "$pid" ] && kill -0 "$supervisor" 2>/dev/null || continue
              if kill -"$1" -"$pid" 2>/dev/null; then n=$((n + 1)); fi
            done
            [ "$1" = CONT ] && plane "$@"
            echo "\(marker)signalled $n"
            """
        let signal = freeze ? "STOP" : "CONT"
        let result = await client.change(
            freeze ? "freezeHost" : "thawHost",
            words: ["SIG" + signal],
            ["sh", "-c", script, "slipway-freeze", signal, records, dataPlanePidFile],
            timeout: timeout
        )
        let answers = MarkedAnswers(result.output, marker: marker)
        guard result.succeeded, let count = answers.first("signalled").flatMap({ Int($0) }) else {
            return .failure(HostFreezeError(description: HostProbe.problem(in: result)))
        }
        return .success(count)
    }
}

/// A host could not be frozen or let go.
public struct HostFreezeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why, in SSH's words.
    public var description: String

    /// An error saying `description`.
    public init(description: String) {
        self.description = description
    }
}
