using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.Mvc.Razor;
using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.AspNetCore.Mvc.ViewFeatures;

namespace MlxManager.Web.Endpoints;

/// <summary>
/// Renders a Razor partial to a string outside a page handler: for endpoints that send HTML fragments over
/// server-sent events or answer htmx from a minimal API. Partials are named by their full path
/// (<c>/Pages/Models/Partials/_DownloadTiles.cshtml</c>), so the <c>_ViewImports</c> above them apply.
/// </summary>
public sealed class RazorPartials(IRazorViewEngine views, ITempDataProvider tempData, IModelMetadataProvider metadata)
{
    public async Task<string> RenderAsync<TModel>(HttpContext context, string path, TModel model)
    {
        var found = views.GetView(executingFilePath: null, viewPath: path, isMainPage: false);
        if (!found.Success)
        {
            throw new InvalidOperationException($"The partial {path} was not found (looked in {string.Join(", ", found.SearchedLocations)}).");
        }

        var action = new ActionContext(context, context.GetRouteData(), new ActionDescriptor());
        await using var writer = new StringWriter();
        var viewData = new ViewDataDictionary<TModel>(metadata, new ModelStateDictionary()) { Model = model };
        var viewContext = new ViewContext(action, found.View, viewData, new TempDataDictionary(context, tempData), writer, new HtmlHelperOptions());
        await found.View.RenderAsync(viewContext);
        return writer.ToString();
    }
}
