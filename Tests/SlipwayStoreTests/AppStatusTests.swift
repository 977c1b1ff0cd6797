import Foundation
import SlipwayCore
import Testing

@testable import SlipwayStore

@Suite struct AppStatusTests {
    private typealias Add = (EventKind, String?, [String: JSONValue]) throws -> Void

    /// Appends an event of app `shop` to `log`.
    private static func adder(to log: EventLog) -> Add {
        { kind, instance, fields in
            try log.append([Event(app: "shop", kind: kind, instance: instance.map(InstanceID.init), fields: fields)])
        }
    }

    /// `shop` started with two instances of 1.0.0, `shop-1` and `shop-2`.
    private static func startTwoInstances(_ add: Add) throws {
        try add(.controllerStarted, nil, ["version": "1.0.0", "instances": 2])
        try add(.instanceStarted, "shop-1", ["pid": 10, "port": 4001, "version": "1.0.0"])
        try add(.instanceStarted, "shop-2", ["pid": 11, "port": 4002, "version": "1.0.0"])
    }
    @Test func foldsInstancesThroughTheirLives() throws {
        let log = EventLog()
        let add = Self.adder(to: log)
        try Self.startTwoInstances(add)
        try add(.instanceHealthy, "shop-1", [:])
        try add(.instanceHealthy, "shop-2", [:])
        try add(.instanceExited, "shop-2", ["status": "signal 9 (SIGKILL)", "expected": false])
        try add(.instanceStarted, "shop-3", ["pid": 12, "port": 4003, "version": "1.0.0"])
        try add(.crashLoopBackoff, "shop-2", ["failures": 2, "delay": "1s"])

        var status = AppStatus.fold(app: "shop", events: try log.events())
        #expect(status.supervision == .running)
        #expect(status.version == "1.0.0")
        #expect(status.desiredInstances == 2)
        #expect(status.instances.map(\.id.rawValue) == ["shop-1", "shop-3"])
        #expect(status.instances.map(\.state) == [.healthy, .starting])
        #expect(status.instances[1].pid == 12)
        #expect(status.healthyCount == 1)
        #expect(status.backoff?.failures == 2)

        try add(.instanceHealthy, "shop-3", [:])
        try add(.controllerStopped, nil, [:])
        status = AppStatus.fold(app: "shop", events: try log.events())
        #expect(status.supervision == .stopped)
        #expect(status.instances.isEmpty)
        #expect(status.backoff == nil)
        #expect(status.lastEvent?.kind == .controllerStopped)
    }

    @Test func anInstanceIsEjectedUntilItReturns() throws {
        let log = EventLog()
        let add = Self.adder(to: log)
        try Self.startTwoInstances(add)
        try add(.instanceEjected, "shop-2", ["version": "1.0.0", "reason": "5 failed requests in a row"])
        var status = AppStatus.fold(app: "shop", events: try log.events())
        #expect(status.instances.map(\.ejected) == [false, true])
        try add(.instanceReturned, "shop-2", ["version": "1.0.0", "reason": "probe passed"])
        status = AppStatus.fold(app: "shop", events: try log.events())
        #expect(status.instances.map(\.ejected) == [false, false])
    }

    @Test func eachHostsDataPlaneIsKeptApartFromThisMachines() throws {
        let log = EventLog()
        let add = Self.adder(to: log)
        try Self.startTwoInstances(add)
        try add(.dataPlaneStarted, nil, ["host": "web-1", "pid": 40, "build": "1.2.0", "uptimeMs": 0])
        try add(.dataPlaneAttached, nil, ["host": "web-2", "pid": 50, "build": "1.2.0", "uptimeMs": 60_000])
        try add(
            .dataPlaneLost,
            nil,
            ["host": "web-2", "pid": 50, "reason": "its control connection through SSH ended"]
        )
        try add(
            .instanceStarted,
            "shop-3",
            ["pid": 70, "port": 20_511, "version": "1.0.0", "address": "198.18.0.2:20511"]
        )
        var status = AppStatus.fold(app: "shop", events: try log.events())
        #expect(status.instances.map(\.address) == [nil, nil, "198.18.0.2:20511"])
        #expect(status.dataPlane == nil)
        #expect(status.hostDataPlanes.mapValues(\.pid) == ["web-1": 40, "web-2": 50])
        #expect(status.hostDataPlanes.mapValues(\.attached) == ["web-1": true, "web-2": false])

        try add(.dataPlaneAttached, nil, ["pid": 60, "build": "1.2.0", "uptimeMs": 0])
        try add(.controllerStopped, nil, ["leftRunning": true])
        status = AppStatus.fold(app: "shop", events: try log.events())
        #expect(status.dataPlane?.pid == 60 && status.dataPlane?.attached == false)
        #expect(status.hostDataPlanes.values.allSatisfy { !$0.attached } && status.hostDataPlanes.count == 2)
        try add(.controllerStopped, nil, [:])
        status = AppStatus.fold(app: "shop", events: try log.events())
        #expect(status.dataPlane == nil && status.hostDataPlanes.isEmpty)
    }
}
