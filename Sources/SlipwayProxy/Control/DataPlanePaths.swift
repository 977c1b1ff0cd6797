/// Where a state directory's data plane keeps its socket, its pid and its routes.
public struct DataPlanePaths: Sendable, Equatable {
    /// The control socket.
    public var socket: String
    /// The running data plane's process id.
    public var pid: String
    /// The routes it serves, saved after every change.
    public var routes: String
    /// What the data plane writes to standard output and error.
    public var log: String

    /// The paths inside `stateDirectory`.
    public init(stateDirectory: String) {
        socket = stateDirectory + "/dataplane.sock"
        pid = stateDirectory + "/dataplane.pid"
        routes = stateDirectory + "/dataplane.routes.json"
        log = stateDirectory + "/dataplane.log"
    }
}
