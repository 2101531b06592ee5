using System.Text.Json;
using MlxManager.EngineEmulator.Python;

namespace MlxManager.EngineEmulator.Models;

/// <summary>A model in memory: what its folder says, and what holds its weights (mapped pages in this process,
/// or a handler child process).</summary>
public sealed class LoadedModel(string requested, ModelFolder folder, IDisposable? weights, long weightBytes) : IDisposable
{
    /// <summary>The <c>--model</c> / request value it was loaded for (HF id or path).</summary>
    public string Requested { get; } = requested;
    public ModelFolder Folder { get; } = folder;
    public long WeightBytes { get; } = weightBytes;

    public void Dispose() => weights?.Dispose();
}

/// <summary>Which loader's rules apply: mlx_lm's (text, <c>model*.safetensors</c>) or mlx_vlm's (any <c>*.safetensors</c>).</summary>
public enum LoaderKind
{
    MlxLm,
    MlxVlm,
}

/// <summary>Resolves <c>--model</c> like the engines do (an existing folder, else an HF id looked up in the HF cache),
/// reads and checks the folder in the order their loaders do, then maps the weights at the configured rate.
/// Every failure is a <see cref="PythonException"/> carrying the message the real loader raises.</summary>
public sealed class ModelLoader(HfCache cache, double bytesPerSecond, bool offline)
{
    public HfCache Cache { get; } = cache;

    /// <summary>An existing local folder (made absolute), or the cached snapshot of an HF id.</summary>
    public (string Path, bool IsRepoId) Resolve(string model, LoaderKind kind)
    {
        if (Directory.Exists(model) || File.Exists(model)) return (System.IO.Path.GetFullPath(model), false);
        var frames = kind == LoaderKind.MlxLm
            ? new List<PythonFrame>
            {
                new(PythonPaths.Package("mlx_lm/utils.py"), 525, "load", "model_path = _download(path_or_hf_repo, revision=revision)"),
                new(PythonPaths.Package("mlx_lm/utils.py"), 253, "_download", "snapshot_download("),
            }
            : [new(PythonPaths.Package("mlx_vlm/utils.py"), 180, "get_model_path", "snapshot_download(")];
        if (HfCache.RepoIdProblem(model) is { } problem)
            throw new PythonException("huggingface_hub.errors.HFValidationError", problem,
                [.. frames, new(PythonPaths.Package("huggingface_hub/utils/_validators.py"), 106, "_inner_fn", "validate_repo_id(arg_value)"),
                    new(PythonPaths.Package("huggingface_hub/utils/_validators.py"), 154, "validate_repo_id", "raise HFValidationError(")]);
        if (Cache.MainSnapshot(model) is { } snapshot) return (snapshot, true);
        throw new PythonException("huggingface_hub.errors.LocalEntryNotFoundError",
            offline
                ? "Cannot find an appropriate cached snapshot folder for the specified revision on the local disk and outgoing traffic has been disabled. To enable repo look-ups and downloads online, pass 'local_files_only=False' as input."
                : "An error happened while trying to locate the files on the Hub and we cannot find the appropriate snapshot folder for the specified revision on the local disk. Please check your internet connection and try again.",
            [.. frames, new(PythonPaths.Package("huggingface_hub/_snapshot_download.py"), 235, "snapshot_download", "raise LocalEntryNotFoundError(")]);
    }

    /// <summary>Checks the folder in the order the engine's loader does, then maps and touches the weights.</summary>
    public LoadedModel Load(string model, LoaderKind kind, CancellationToken cancellationToken, string? chatTemplateOverride = null)
    {
        var (path, _) = Resolve(model, kind);
        var utils = kind == LoaderKind.MlxLm ? "mlx_lm/utils.py" : "mlx_vlm/utils.py";
        PythonFrame Frame(int line, string function, string source) => new(PythonPaths.Package(utils), line, function, source);
        var loadFrame = Frame(530, "load", "model, config = load_model(");

        ModelFolder folder;
        try
        {
            folder = ModelFolder.Read(path, chatTemplateOverride);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new PythonException("FileNotFoundError", $"[Errno 2] No such file or directory: '{System.IO.Path.Combine(path, "config.json")}'",
                [loadFrame, Frame(332, "load_model", "config = load_config(model_path)"), Frame(282, "load_config", "with open(model_path / \"config.json\", \"r\") as f:")]);
        }
        catch (IOException e) when (File.Exists(path))
        {
            throw new PythonException("NotADirectoryError", $"[Errno 20] Not a directory: '{System.IO.Path.Combine(path, "config.json")}' ({e.GetType().Name})",
                [loadFrame, Frame(332, "load_model", "config = load_config(model_path)"), Frame(282, "load_config", "with open(model_path / \"config.json\", \"r\") as f:")]);
        }
        catch (JsonException e)
        {
            throw new PythonException("json.decoder.JSONDecodeError", $"Expecting value: line 1 column 1 (char 0) ({e.Message})",
                [loadFrame, Frame(332, "load_model", "config = load_config(model_path)"), Frame(283, "load_config", "config = json.load(f)")]);
        }

        var weightFiles = Directory.EnumerateFiles(path, kind == LoaderKind.MlxLm ? "model*.safetensors" : "*.safetensors")
            .Order(StringComparer.Ordinal).ToList();
        if (weightFiles.Count == 0)
            throw new PythonException("FileNotFoundError", $"No safetensors found in {path}",
                [loadFrame, Frame(339, "load_model", "raise FileNotFoundError(f\"No safetensors found in {model_path}\")")]);
        foreach (var file in weightFiles)
        {
            if (SafetensorsHeader.Problem(file) is { } problem)
                throw new PythonException("RuntimeError", problem,
                    [loadFrame, Frame(343, "load_model", "weights.update(mx.load(wf))")]);
        }

        if (kind == LoaderKind.MlxLm && ModelSupport.MlxLmModule(folder.ModelType) is null)
            throw new PythonException("ValueError", $"Model type {ModelSupport.MlxLmName(folder.ModelType)} not supported.",
                [loadFrame, Frame(357, "load_model", "model_class, model_args_class = get_model_classes(config=config)"),
                    Frame(193, "_get_classes", "raise ValueError(msg)")]);
        if (kind == LoaderKind.MlxVlm && !ModelSupport.MlxVlmSupports(folder.ModelType))
            throw new PythonException("ValueError",
                $"Model type {folder.ModelType.ToLowerInvariant()} not supported. Error: No module named 'mlx_vlm.speculative.drafters.{folder.ModelType.ToLowerInvariant()}'",
                [Frame(410, "load_model", "model_class, _ = get_model_and_args(config=config)"), Frame(634, "get_model_and_args", "raise ValueError(msg)")]);

        if (!folder.HasTokenizer)
            throw new PythonException("OSError",
                $"Can't load tokenizer for '{path}'. If you were trying to load it from 'https://huggingface.co/models', make sure you don't have a local directory with the same name. Otherwise, make sure '{path}' is the correct path to a directory containing all relevant files for a PreTrainedTokenizerFast tokenizer.",
                [Frame(545, "load", "tokenizer = load_tokenizer(")]);

        var weights = WeightMemory.Load(weightFiles, bytesPerSecond, cancellationToken);
        return new LoadedModel(model, folder, weights, weightFiles.Sum(WeightMemory.FileLength));
    }
}
