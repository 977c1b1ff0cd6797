import NIOCore
import NIOPosix
import SlipwayCore
import SlipwayProxy
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `slipway-dataplane --state DIR [--threads N] [--take-over]`: the data plane of one state directory, in a process
/// of its own.
///
/// It serves every listener with the routes it was last given (from `DIR/dataplane.routes.json` when it starts),
/// takes orders on `DIR/dataplane.sock`, and goes on serving when no controller runs. SIGTERM (or a `shutdown`
/// request) closes the listeners, lets requests in flight finish, forgets the routes and exits. With `--take-over`
/// it takes the listening sockets and routes of the data plane running for `DIR` (an upgrade); that one stops
/// accepting, finishes its open connections and exits.
let usage = "usage: slipway-dataplane --state DIR [--threads N] [--take-over]"

func fail(_ message: String) -> Never {
    FileHandleless.write(2, "slipway-dataplane: \(message)\n")
    exit(2)
}

var arguments = CommandLine.arguments.dropFirst()
var stateDirectory: String?
var threads = System.coreCount
var takeOver = false
while let argument = arguments.popFirst() {
    switch argument {
    case "--take-over":
        takeOver = true
    case "--state":
        guard let value = arguments.popFirst() else { fail("--state needs a directory\n\(usage)") }
        stateDirectory = value
    case "--threads":
        guard let value = arguments.popFirst(), let count = Int(value), (1...64).contains(count) else {
            fail("--threads needs a number from 1 to 64\n\(usage)")
        }
        threads = count
    default:
        fail("unknown argument \"\(argument)\"\n\(usage)")
    }
}
guard let stateDirectory else { fail("--state is required\n\(usage)") }

// A session of its own: the controller's terminal, and the controller's end, do not reach it.
_ = setsid()
signal(SIGPIPE, SIG_IGN)
signal(SIGHUP, SIG_IGN)
signal(SIGINT, SIG_IGN)
signal(SIGTERM) { _ in DataPlaneProcess.stopRequested.store(true, ordering: .relaxed) }

let paths = DataPlanePaths(stateDirectory: stateDirectory)
let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
let dataPlane = DataPlane(group: group, stateFile: paths.routes)
let problems: [String]
if takeOver {
    do {
        problems = try await DataPlaneProcess.takeOver(paths, into: dataPlane)
    } catch {
        fail("cannot take over from the data plane at \(paths.socket): \(error)")
    }
} else {
    problems = await dataPlane.restore()
}
for problem in problems {
    FileHandleless.write(2, "slipway-dataplane: \(problem)\n")
}
let server: ControlServer
// Bound beside the old socket and renamed over it: a controller connecting finds one data plane or the other.
let bindPath = takeOver ? "\(paths.socket).\(getpid())" : paths.socket
do {
    server = try await ControlServer(
        path: bindPath,
        dataPlane: dataPlane,
        lifecycle: ControlServer.Lifecycle(
            shutdown: { DataPlaneProcess.stopRequested.store(true, ordering: .relaxed) },
            handedOver: {
                DataPlaneProcess.handedOver.store(true, ordering: .relaxed)
                DataPlaneProcess.stopRequested.store(true, ordering: .relaxed)
            }
        ),
        group: group
    )
} catch {
    fail("cannot listen on \(bindPath): \(error)")
}
if takeOver, rename(bindPath, paths.socket) != 0 {
    fail("cannot move the control socket to \(paths.socket): \(String(cString: strerror(errno)))")
}
DataPlaneProcess.writePid(paths.pid)
let serving = Task { await server.run() }
while !DataPlaneProcess.stopRequested.load(ordering: .relaxed) {
    try? await Task.sleep(for: .milliseconds(50))
}
if DataPlaneProcess.handedOver.load(ordering: .relaxed) {
    // The socket, pid file and routes are the new data plane's now; only the open connections are left here.
    await dataPlane.quiesceAfterHandOver(within: .seconds(60))
    // The control socket is left to the process exit: closing it through SwiftNIO would unlink its path, which
    // names the new data plane's socket now.
    exit(0)
} else {
    await server.close()
    await dataPlane.shutdown(within: .seconds(5))
    unlink(paths.routes)
    unlink(paths.pid)
}
serving.cancel()
try? await group.shutdownGracefully()
exit(0)
