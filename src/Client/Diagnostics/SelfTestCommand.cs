using System.CommandLine;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Client.Diagnostics;

/// <summary>
/// `moe selftest --device D`: the binding's checks on a device (see <see cref="DeviceSelfTest"/>),
/// one line per check and a closing "N passed, N failed"; exit 0 only when every check passed.
/// It needs no test projects, so it runs from the published build on a machine without the .NET SDK.
/// </summary>
internal static class SelfTestCommand
{
    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "The device to check: cpu (a dry run), cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var models = new Option<DirectoryInfo>("--models")
        {
            Description = "Directory holding tiny-moe.model.json and tiny-mh-latentmoe.model.json.",
            DefaultValueFactory = _ => new DirectoryInfo("experiments"),
        };
        var command = new Command("selftest", "Check the libtorch binding on a device: operations, gradients, models, AdamW, checkpoints, collectives, autocast.");
        command.Options.Add(device);
        command.Options.Add(models);
        command.SetAction(parse =>
        {
            var on = Device.Parse(parse.GetValue(device)!).EnsureAvailable();
            Console.WriteLine($"selftest on {on} ({TorchRuntime.Describe()})");
            int passed = 0, failed = 0;
            foreach (var result in new DeviceSelfTest(on, parse.GetValue(models)!.FullName).Run())
            {
                Console.WriteLine($"{(result.Passed ? "PASS" : "FAIL")} {result.Name}: {result.Detail}");
                if (result.Passed) passed++;
                else failed++;
            }
            Console.WriteLine($"{passed} passed, {failed} failed");
            return failed == 0 ? 0 : 1;
        });
        return command;
    }
}
