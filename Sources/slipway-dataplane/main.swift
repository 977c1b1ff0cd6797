import Logging
import NIOCore
import NIOPosix
import SlipwayCore
import SlipwayProxy
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `slipway-dataplane --state DIR [--threads N] [--take-over] [--log-format text|json]`: the data plane of one state
/// directory, in a process of its own.
///
/// It serves every listener with the routes it was last given (from `DIR/dataplane.routes.json` when it starts),
/// takes orders on `DIR/dataplane.sock`, and goes on serving when no controller runs. SIGTERM (or a `shutdown`
/// request) closes the listeners, lets requests in flight finish, forgets the routes and exits. With `--take-over`
/// it takes the listening sockets and routes of the data plane running for `DIR` (an upgrade); that one stops
/// accepting, finishes its open connections and exits. Its messages go to standard error, as text or (with
/// `--log-format json`) as one JSON object per line.
let usage =
    "usage: slipway-dataplane --state DIR [--threads N] [--take-over] [--log-format text|json] "
    + "[--otlp-endpoint URL [--trace-ratio R] [--service-name NAME] [--otlp-protocol protobuf|json]]"

func fail(_ message: String) -> Never {
    DataPlaneProcess.say("error", message)
    exit(2)
}

var arguments = CommandLine.arguments.dropFirst()
var stateDirectory: String?
var threads = System.coreCount
var takeOver = false
var otlpEndpoint: String?
var traceRatio = 0.1
var serviceName = "slipway"
var otlpJSON = false
while let argument = arguments.popFirst() {
    switch argument {
    case "--take-over":
        takeOver = true
    case "--state":
        guard let value = arguments.popFirst() else { fail("--state needs a directory\n\(usage)") }
        stateDirectory = value
    case "--log-format":
        switch arguments.popFirst() {
        case "text": DataPlaneProcess.jsonLogs.store(false, ordering: .relaxed)
        case "json": DataPlaneProcess.jsonLogs.store(true, ordering: .relaxed)
        default: fail("--log-format needs text or json\n\(usage)")
        }
    case "--otlp-endpoint":
        guard let value = arguments.popFirst(), value.hasPrefix("http://") || value.hasPrefix("https://") else {
            fail("--otlp-endpoint needs an http or https URL\n\(usage)")
        }
        otlpEndpoint = value
    case "--trace-ratio":
        guard let value = arguments.popFirst(), let ratio = Double(value), (0...1).contains(ratio) else {
            fail("--trace-ratio needs a number from 0 to 1\n\(usage)")
        }
        traceRatio = ratio
    case "--service-name":
        guard let value = arguments.popFirst(), !value.isEmpty else { fail("--service-name needs a name\n\(usage)") }
        serviceName = value
    case "--otlp-protocol":
        switch arguments.popFirst() {
        case "protobuf": otlpJSON = false
        case "json": otlpJSON = true
        default: fail("--otlp-protocol needs protobuf or json\n\(usage)")
        }
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
var tracing: RequestTracing?
var exporting: TracingService?
if let otlpEndpoint {
    let export = TracingExport(
        endpoint: otlpEndpoint,
        sampleRatio: traceRatio,
        serviceName: serviceName,
        json: otlpJSON
    )
    do {
        let backend = try export.makeBackend()
        tracing = RequestTracing(tracer: backend.tracer)
        exporting = TracingService(service: backend.service, logger: Logger(label: "slipway-dataplane"))
    } catch {
        fail("cannot export traces to \(otlpEndpoint): \(error)")
    }
}
let dataPlane = DataPlane(group: group, stateFile: paths.routes, tracing: tracing)
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
    DataPlaneProcess.say("warning", problem)
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
DataPlaneProcess.say(
    "info",
    "serving \(await dataPlane.names.count) listeners on \(threads) threads"
        + (takeOver ? ", taken over from the data plane before" : "") + "; control socket \(paths.socket)"
)
while !DataPlaneProcess.stopRequested.load(ordering: .relaxed) {
    try? await Task.sleep(for: .milliseconds(50))
}
if DataPlaneProcess.handedOver.load(ordering: .relaxed) {
    // The socket, pid file and routes are the new data plane's now; only the open connections are left here.
    DataPlaneProcess.say("info", "handed over to a new data plane; finishing open connections")
    await dataPlane.quiesceAfterHandOver(within: .seconds(60))
    await exporting?.flushAndStop(within: .seconds(5))
    // The control socket is left to the process exit: closing it through SwiftNIO would unlink its path, which
    // names the new data plane's socket now.
    exit(0)
} else {
    await server.close()
    await dataPlane.shutdown(within: .seconds(5))
    unlink(paths.routes)
    unlink(paths.pid)
    DataPlaneProcess.say("info", "stopped")
}
serving.cancel()
await exporting?.flushAndStop(within: .seconds(5))
try? await group.shutdownGracefully()
exit(0)
