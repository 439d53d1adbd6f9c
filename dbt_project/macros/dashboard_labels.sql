{# Russian display labels for codes the dashboards show; the codes stay in their English columns. #}
{% macro traffic_source_label(expression) -%}
    case {{ expression }}
        when 'Search engine traffic' then 'Поисковые системы'
        when 'Direct traffic' then 'Прямые заходы'
        when 'Social network traffic' then 'Социальные сети'
        when 'Messenger traffic' then 'Мессенджеры'
        when 'Ad traffic' then 'Реклама'
        when 'Link traffic' then 'Ссылки на сайтах'
        when 'Internal traffic' then 'Внутренние переходы'
        when 'Recommendation system traffic' then 'Рекомендательные системы'
        when 'Cached page traffic' then 'Сохранённые страницы'
        when 'Mailing traffic' then 'Почтовые рассылки'
        else {{ expression }}
    end
{%- endmacro %}

{% macro segment_label(expression) -%}
    case {{ expression }}
        when 'champions' then 'Чемпионы'
        when 'loyal' then 'Лояльные'
        when 'new_or_returning' then 'Новые и вернувшиеся'
        when 'at_risk' then 'Под угрозой ухода'
        when 'hibernating' then 'Спящие'
        when 'history_only' then 'Только история до 1С'
        when 'returns_only' then 'Только возвраты'
        when 'no_purchases' then 'Без покупок'
    end
{%- endmacro %}
