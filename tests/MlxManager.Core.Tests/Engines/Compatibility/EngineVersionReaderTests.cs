using Microsoft.Extensions.Logging.Abstractions;
using MlxManager.Core.Engines.Compatibility;

namespace MlxManager.Core.Tests.Engines.Compatibility;

/// <summary>Installed engine versions from package metadata (pip's layout) and from a version argument, without pip.</summary>
public sealed class EngineVersionReaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("versions-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Venv(string name, string distribution, string version)
    {
        var venv = Path.Combine(_root, name);
        var info = Directory.CreateDirectory(Path.Combine(venv, "lib", "python3.12", "site-packages", $"{distribution}-{version}.dist-info")).FullName;
        File.WriteAllText(Path.Combine(info, "METADATA"), $"Metadata-Version: 2.4\nName: {distribution.Replace('_', '-')}\nVersion: {version}\nSummary: x\n\nVersion: not-this-one\n");
        Directory.CreateDirectory(Path.Combine(venv, "bin"));
        return venv;
    }

    [Fact]
    public void FromMetadata_ReadsTheDistInfoOfTheShebangsPython()
    {
        var venv = Venv("venv", "mlx_lm", "0.31.1");
        var scripts = Directory.CreateDirectory(Path.Combine(_root, "elsewhere", "bin")).FullName;
        var script = Path.Combine(scripts, "mlx_lm.server");
        File.WriteAllText(script, $"#!{Path.Combine(venv, "bin", "python3.12")}\nimport sys\n");

        var version = EngineVersionReader.FromMetadata(script, "mlx-lm").ShouldNotBeNull();

        version.Value.ShouldBe("0.31.1");
        version.Source.ShouldEndWith(Path.Combine("mlx_lm-0.31.1.dist-info", "METADATA"));
    }

    [Fact]
    public void FromMetadata_FollowsASymlinkIntoItsVirtualEnvironment()
    {
        var venv = Venv("pipx-venv", "mlx_vlm", "0.6.15");
        var target = Path.Combine(venv, "bin", "mlx_vlm.server");
        File.WriteAllText(target, "#!/usr/bin/env python3\n");
        var link = Path.Combine(Directory.CreateDirectory(Path.Combine(_root, "local-bin")).FullName, "mlx_vlm.server");
        File.CreateSymbolicLink(link, target);

        EngineVersionReader.FromMetadata(link, "mlx-vlm")!.Value.ShouldBe("0.6.15");
    }

    [Fact]
    public void FromMetadata_WithoutAnEnvironment_IsNull()
    {
        var script = Path.Combine(Directory.CreateDirectory(Path.Combine(_root, "plain")).FullName, "mlx_lm.server");
        File.WriteAllText(script, "#!/bin/sh\n");

        EngineVersionReader.FromMetadata(script, "mlx-lm").ShouldBeNull();
    }

    [Fact]
    public async Task ReadAsync_UsesTheVersionArgument_WhenThereIsNoMetadata()
    {
        var script = Path.Combine(Directory.CreateDirectory(Path.Combine(_root, "click")).FullName, "mlx-openai-server");
        File.WriteAllText(script, "#!/bin/sh\n[ \"$1\" = --version ] && printf '\\n✨ mlx-openai-server - OpenAI Compatible API Server for MLX models ✨\\n🚀 Version: 1.7.0\\n\\n'\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var engine = EngineArchitectures.Shipped.Engines["mlx-openai-server"];

        var version = await new EngineVersionReader(NullLogger<EngineVersionReader>.Instance).ReadAsync(script, engine, CancellationToken.None);

        version.ShouldNotBeNull().Value.ShouldBe("1.7.0");
        version.Source.ShouldBe("mlx-openai-server --version");
    }

    [Theory]
    [InlineData("0.31.3", "0.32.0", true)]
    [InlineData("0.32.0", "0.32.0", false)]
    [InlineData("0.32.1.dev0", "0.32.0", false)]
    [InlineData("1.10", "1.8.1", false)]
    [InlineData("0.6.9", "0.6.15", true)]
    public void IsOlder_ComparesNumerically(string installed, string reference, bool older)
    {
        EngineVersionReader.IsOlder(installed, reference).ShouldBe(older);
    }
}
