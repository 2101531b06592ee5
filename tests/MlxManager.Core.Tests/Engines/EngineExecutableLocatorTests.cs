using Microsoft.Extensions.Options;
using MlxManager.Core.Engines;

namespace MlxManager.Core.Tests.Engines;

public sealed class EngineExecutableLocatorTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("engines-locator-");
    private readonly MlxLmServer _engine = new();

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public void Resolve_FindsTheFirstExecutableOnPath()
    {
        var first = Folder("first");
        var second = Folder("second");
        var expected = Executable(second, "mlx_lm.server");

        var resolution = Locator().Resolve(_engine, string.Join(Path.PathSeparator, first, second));

        resolution.IsFound.ShouldBeTrue();
        resolution.ExecutablePath.ShouldBe(expected);
        resolution.Problem.ShouldBeNull();
    }

    [Fact]
    public void Resolve_SkipsAFileWithoutTheExecuteBit()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var plain = Folder("plain");
        File.WriteAllText(Path.Combine(plain, "mlx_lm.server"), "not executable");
        var bin = Folder("bin");
        var expected = Executable(bin, "mlx_lm.server");

        Locator().Resolve(_engine, $"{plain}{Path.PathSeparator}{bin}").ExecutablePath.ShouldBe(expected);
    }

    [Fact]
    public void Resolve_FollowsASymlinkedExecutable_AsVirtualenvsUse()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var target = Executable(Folder("venv-real"), "python-entry");
        var bin = Folder("venv-bin");
        File.CreateSymbolicLink(Path.Combine(bin, "mlx_lm.server"), target);

        Locator().Resolve(_engine, bin).ExecutablePath.ShouldBe(Path.Combine(bin, "mlx_lm.server"));
    }

    [Fact]
    public void Resolve_WhenMissing_NamesTheExecutableWhereItLookedAndHowToInstall()
    {
        var a = Folder("a");
        var b = Folder("b");

        var resolution = Locator().Resolve(_engine, $"{a}{Path.PathSeparator}{b}");

        resolution.IsFound.ShouldBeFalse();
        resolution.Searched.ShouldBe([a, b]);
        resolution.Problem.ShouldBe(
            $"mlx_lm.server was not found (looked on PATH in {a}, {b}). Install it with `pip install mlx-lm` in the Python environment the engine should use, "
            + "then add that environment's bin folder to the manager's PATH or set MlxManager:Engines:mlx_lm.server:Path to the executable's full path.");
    }

    [Fact]
    public void Resolve_WhenPathIsEmpty_SaysSo()
    {
        Locator().Resolve(_engine, "").Problem.ShouldNotBeNull().ShouldContain("PATH is empty");
    }

    [Fact]
    public void Resolve_PrefersTheConfiguredPathOverPath()
    {
        var configured = Executable(Folder("custom"), "my-mlx-lm");
        var onPath = Folder("onpath");
        Executable(onPath, "mlx_lm.server");

        Locator(configured).Resolve(_engine, onPath).ExecutablePath.ShouldBe(configured);
    }

    [Fact]
    public void Resolve_WhenTheConfiguredFileIsMissing_SaysWhichSettingPointsWhere()
    {
        var missing = Path.Combine(_root.FullName, "nowhere", "mlx_lm.server");

        var resolution = Locator(missing).Resolve(_engine, Folder("unused"));

        resolution.IsFound.ShouldBeFalse();
        resolution.Problem.ShouldBe(
            $"mlx_lm.server is configured at {missing} (MlxManager:Engines:mlx_lm.server:Path), but no file exists there. "
            + "Install it with `pip install mlx-lm` and correct the path, or clear the setting to look it up on PATH.");
    }

    [Fact]
    public void Resolve_WhenTheConfiguredPathIsAFolder_SuggestsTheFileInside()
    {
        var folder = Folder("venv");

        Locator(folder).Resolve(_engine).Problem.ShouldNotBeNull()
            .ShouldContain($"that is a folder. Set it to the executable file itself, e.g. {Path.Combine(folder, "mlx_lm.server")}");
    }

    [Fact]
    public void Resolve_WhenTheConfiguredFileIsNotExecutable_SaysSo()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var file = Path.Combine(Folder("x"), "mlx_lm.server");
        File.WriteAllText(file, "#!/bin/sh\n");

        Locator(file).Resolve(_engine).Problem.ShouldNotBeNull().ShouldContain("not executable");
    }

    private EngineExecutableLocator Locator(string? configuredPath = null)
    {
        var options = new EngineOptions();
        if (configuredPath is not null)
        {
            options.Engines[_engine.Key] = new EngineSettings { Path = configuredPath };
        }

        return new EngineExecutableLocator(new FixedOptionsMonitor<EngineOptions>(options));
    }

    private string Folder(string name) => Directory.CreateDirectory(Path.Combine(_root.FullName, name)).FullName;

    private static string Executable(string folder, string name)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, "#!/bin/sh\nexit 0\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }
}

internal sealed class FixedOptionsMonitor<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;

    public T Get(string? name) => value;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
