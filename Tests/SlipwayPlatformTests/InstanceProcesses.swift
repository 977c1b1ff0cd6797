import Foundation
import Glibc
import SlipwayCore
import SlipwaySupervision
import Testing

@testable import SlipwayPlatform

/// The processes the instances of one state directory run, found from their supervisor records: supervisors,
/// instances and whatever else is in an instance's process group.
struct InstanceProcesses {
    let state: String

    /// A description of each process still running.
    func running() -> [String] {
        var found: [String] = []
        for record in records() {
            let id = InstanceID(record.instance)
            if LocalPlatform.isSupervisor(record.supervisorPid, of: id) {
                found.append("supervisor \(record.supervisorPid) of \(id)")
            }
            for member in Self.members(ofGroup: record.pid) { found.append("process \(member) of \(id)") }
        }
        return found
    }

    /// Waits a little for every process to end, then kills by pid what still runs (bounded). Returns what ran
    /// before the kill.
    func sweep() async -> [String] {
        var left = running()
        let deadline = ContinuousClock.now + .seconds(3)
        while !left.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
            left = running()
        }
        guard !left.isEmpty else { return [] }
        kill()
        return left
    }

    /// Kills by pid every process still running, waiting (bounded) until none is.
    func kill() {
        let deadline = ContinuousClock.now + .seconds(5)
        while !running().isEmpty, ContinuousClock.now < deadline {
            for record in records() {
                let id = InstanceID(record.instance)
                if LocalPlatform.isSupervisor(record.supervisorPid, of: id) {
                    Glibc.kill(record.supervisorPid, SIGKILL)
                }
                for member in Self.members(ofGroup: record.pid) { Glibc.kill(member, SIGKILL) }
            }
            usleep(50_000)
        }
        let survivors = running()
        if !survivors.isEmpty { Issue.record("could not kill: \(survivors.joined(separator: ", "))") }
    }

    private func records() -> [SupervisorRecord] {
        let manager = FileManager.default
        let instances = state + "/instances"
        var records: [SupervisorRecord] = []
        for app in (try? manager.contentsOfDirectory(atPath: instances)) ?? [] {
            let directory = instances + "/" + app
            for file in (try? manager.contentsOfDirectory(atPath: directory)) ?? [] where file.hasSuffix(".supervisor")
            {
                if let record = SupervisorRecord(contentsOf: directory + "/" + file) { records.append(record) }
            }
        }
        return records
    }

    /// The live (not zombie) processes whose process group is `group`, from `/proc`.
    static func members(ofGroup group: Int32) -> [Int32] {
        guard group > 0 else { return [] }
        var members: [Int32] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(name), let stat = Files.read("/proc/\(name)/stat", limit: 4096),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // After the name: state, ppid, pgrp.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, fields[0] != "Z", fields[0] != "X", Int32(fields[2]) == group else { continue }
            members.append(pid)
        }
        return members
    }
}
