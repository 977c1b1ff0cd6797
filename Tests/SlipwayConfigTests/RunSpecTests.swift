import SlipwayConfig
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("Run specifications")
struct RunSpecTests {
    @Test func argvReplacesPlaceholders() {
        let run = RunSpec(command: ["app", "--port", "{port}", "--version={version}", "{port}{port}", "{other}", "{"])
        #expect(
            run.argv(version: "1.2.3", port: 8081)
                == ["app", "--port", "8081", "--version=1.2.3", "80818081", "{other}", "{"]
        )
    }

    @Test func versionTextIsNotSearchedForPlaceholders() {
        let run = RunSpec(command: ["--version={version}"])
        #expect(run.argv(version: "{port}", port: 1) == ["--version={port}"])
    }

    @Test func stopSignalNames() {
        #expect(StopSignal(name: "SIGTERM") == .terminate)
        #expect(StopSignal(name: "TERM") == .terminate)
        #expect(StopSignal(name: "hup") == .hangup)
        #expect(StopSignal(name: "SIGKILL") == nil)
        #expect(StopSignal.terminate.number == SIGTERM)
        #expect(StopSignal.user2.number == SIGUSR2)
        #expect(
            StopSignal.allCases.map(\.rawValue) == ["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2"]
        )
    }
}
