"""Icons, style sheets and translations, shipped inside the wheel as desktop_app.resources."""
