import SlipwayCore
import SlipwaySupervision

extension LaunchRequest {
    /// What the instance's supervisor is told: where its records and logs go under `stateDirectory`, how to stop
    /// it, and the command with `program` (resolved where it runs) first and `{port}` and `{version}` filled in.
    func supervisorArguments(stateDirectory: String, program: String, port: Int) -> SupervisorArguments {
        SupervisorArguments(
            instance: instance.rawValue,
            app: app,
            stateDirectory: stateDirectory,
            logMaxBytes: logs.maxBytes,
            logKeep: logs.keep,
            stopSignal: run.stopSignal.number,
            graceMilliseconds: max(0, run.stopGracePeriod.milliseconds),
            workingDirectory: run.workingDirectory,
            program: program,
            arguments: [program] + run.argv(version: version, port: port).dropFirst()
        )
    }

    /// The variables the instance gets on top of its platform's: `run.env`, then `PORT`, `SLIPWAY_APP`,
    /// `SLIPWAY_VERSION` and `SLIPWAY_INSTANCE`.
    func environment(port: Int) -> [String: String] {
        var variables = run.env
        variables["PORT"] = String(port)
        variables["SLIPWAY_APP"] = app
        variables["SLIPWAY_VERSION"] = version
        variables["SLIPWAY_INSTANCE"] = instance.rawValue
        return variables
    }
}

extension InstanceExit {
    /// The exit an exit record tells of: a start that failed is an unknown status with its reason last in the tail.
    init(_ record: ExitRecord, of id: InstanceID) {
        var tail = record.stderrTail
        let status: ExitStatus
        switch record.ending {
        case .exited(let code): status = .exited(code)
        case .signaled(let signal): status = .signaled(signal)
        case .notStarted(let reason):
            status = .unknown
            tail.append(reason)
        }
        self.init(id: id, status: status, ranFor: .milliseconds(record.ranForMilliseconds), stderrTail: tail)
    }
}
