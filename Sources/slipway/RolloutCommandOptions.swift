import ArgumentParser

/// What every command acting on an app's rollout takes: the app, where the controller is, and `--json`.
struct RolloutCommandOptions: ParsableArguments {
    @Argument(help: "The app (APP@ENV, or APP with --environment, in a configuration with environments).")
    var name: String

    @OptionGroup var target: EnvironmentOption

    @OptionGroup var controller: ControllerOptions

    @Flag(help: "Print the rollout as JSON.")
    var json = false

    /// The app the command is for.
    var app: String { target.qualified(name) }

    /// The exit codes of a command on a rollout, for `--help`.
    static let exitCodes = """
        Exit codes: 0 done (or already so), 1 refused because of the rollout's state, 2 bad usage or no such \
        app or rollout, 4 controller unreachable or unauthorized.
        """
}
